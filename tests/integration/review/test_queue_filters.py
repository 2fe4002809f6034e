"""Each queue filter returns exactly the decisions it should, within the supervisor's scope."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from decision_aid.models.decision import Decision
from tests.conftest import START
from tests.helpers import login_as, text_of
from tests.integration.review.conftest import Cast

REF_RE = re.compile(r"DA-\d{4}-\d{6}")
Predicate = Callable[[Decision, Cast], bool]


def refs_on(client: FlaskClient, query: str) -> list[str]:
    """Decision references on the queue page, in page order."""
    response = client.get(f"/review?{query}")
    assert response.status_code == 200
    html = text_of(response)
    table = html.split("<tbody", 1)[1] if "<tbody" in html else ""
    return list(dict.fromkeys(REF_RE.findall(table)))


def in_scope(decision: Decision, cast: Cast) -> bool:
    return decision.team_id is not None and decision.practitioner_id != cast.supervisor.id \
        and decision.practitioner_id != cast.outsider.id


FILTERS: dict[str, tuple[str, Predicate]] = {
    "all": ("status=any", lambda d, c: True),
    "awaiting": ("status=awaiting", lambda d, c: True),
    "recommendation": ("status=any&recommendation=do_not_share", lambda d, c: d.recommendation == "do_not_share"),
    "decision": ("status=any&outcome=do_not_share", lambda d, c: d.outcome == "do_not_share"),
    "departed": ("status=any&departed=yes", lambda d, c: d.departed_from_recommendation),
    "followed": ("status=any&departed=no", lambda d, c: not d.departed_from_recommendation),
    "emergency-open": ("status=any&emergency=awaiting_completion", lambda d, c: d.emergency),
    "emergency-overdue": ("status=any&emergency=overdue",
                          lambda d, c: d.emergency and d.emergency_due_at < START),
    "not-shared": ("status=any&not-shared=yes", lambda d, c: not d.shared),
    "date-range": ("status=any&from=2026-09-01&to=2026-10-01",
                   lambda d, c: d.submitted_at.date() <= START.date().replace(month=10, day=1)),
    "practitioner": ("status=any&practitioner={colleague}", lambda d, c: d.practitioner_id == c.colleague.id),
}


@pytest.mark.parametrize("name", list(FILTERS))
def test_each_filter(client: FlaskClient, cast: Cast, corpus: dict[str, Decision], name: str) -> None:
    query, predicate = FILTERS[name]
    login_as(client, cast.supervisor)
    expected = [d.reference for d in sorted(corpus.values(), key=lambda d: d.submitted_at)
                if in_scope(d, cast) and predicate(d, cast)]
    assert expected, f"the corpus has no decision for the {name} filter"
    assert refs_on(client, query.format(colleague=cast.colleague.id)) == expected


def test_lawful_basis_filter(client: FlaskClient, cast: Cast, corpus: dict[str, Decision]) -> None:
    basis = corpus["lawful"].primary_lawful_basis
    assert basis
    login_as(client, cast.supervisor)
    expected = [d.reference for d in sorted(corpus.values(), key=lambda d: d.submitted_at)
                if in_scope(d, cast) and d.primary_lawful_basis == basis]
    assert refs_on(client, f"status=any&basis={basis}") == expected


def test_filters_combine(client: FlaskClient, cast: Cast, corpus: dict[str, Decision]) -> None:
    login_as(client, cast.supervisor)
    refs = refs_on(client, f"status=awaiting&not-shared=yes&practitioner={cast.colleague.id}")
    assert refs == [corpus["departed"].reference, corpus["seek"].reference]


def test_oldest_first_and_never_own_or_other_team(client: FlaskClient, cast: Cast,
                                                  corpus: dict[str, Decision]) -> None:
    login_as(client, cast.supervisor)
    refs = refs_on(client, "status=any")
    assert refs[0] == corpus["old"].reference
    assert corpus["own"].reference not in refs
    assert corpus["south"].reference not in refs


@pytest.mark.parametrize("query, message", [
    ("recommendation=nonsense", "Select a recommendation"),
    ("from=2026-02-31", "Date from must be a real date"),
    ("from=2026-10-02&to=2026-10-01", "Date to must be the same as or after date from"),
    ("practitioner=not-a-uuid", "Select a practitioner from the list"),
])
def test_bad_filter_values_are_reported_not_used(client: FlaskClient, cast: Cast, query: str,
                                                 message: str) -> None:
    login_as(client, cast.supervisor)
    response = client.get(f"/review?{query}")
    assert response.status_code == 200
    assert message in text_of(response)


def test_dpo_list_has_every_decision(client: FlaskClient, cast: Cast, corpus: dict[str, Decision]) -> None:
    login_as(client, cast.dpo)
    response = client.get("/dpo/decisions")
    html = text_of(response)
    for decision in corpus.values():
        assert decision.reference in html


def test_supervisor_with_two_teams_sees_both_merged_oldest_first(
        client: FlaskClient, cast: Cast, corpus: dict[str, Decision], make_user: Any) -> None:
    both = make_user("supervisor", teams=["North", "South"])
    login_as(client, both)
    refs = refs_on(client, "status=any")
    expected = [d.reference for d in sorted(corpus.values(), key=lambda d: d.submitted_at)
                if d.team_id is not None]
    assert refs == expected
