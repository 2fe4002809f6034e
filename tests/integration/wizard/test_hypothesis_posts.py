"""Arbitrary form posts to the wizard's pages never produce a server error."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.helpers import csrf_token, text_of
from tests.integration.wizard.helpers import answer_all, draft_id_of, start_draft
from tests.integration.wizard.scenarios import answers_for

FIELD_NAMES = ["immediate_risk", "trigger", "protected_person_age", "data_special_category",
               "purpose", "sharing_necessary", "outcome", "categories", "shared_on", "as_at",
               "case_ref", "method", "person_told", "reasons", "submit", "csrf_token"]
VALUES = st.one_of(st.text(max_size=30), st.sampled_from(["yes", "no", "", "under_18", "share_all", "1"]),
                   st.text(max_size=2000).map(lambda s: s * 2))
FORMS = st.dictionaries(st.sampled_from(FIELD_NAMES), st.one_of(VALUES, st.lists(VALUES, max_size=5)),
                        max_size=8)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def _posts(client: FlaskClient, urls: list[str], data: Any) -> None:
    url = data.draw(st.sampled_from(urls))
    form = data.draw(FORMS)
    if "csrf_token" not in form:
        form["csrf_token"] = client.token  # type: ignore[attr-defined]
    response = client.post(url, data=form)
    assert response.status_code < 500, (url, form, text_of(response)[:500])


def test_arbitrary_posts_never_cause_a_server_error(signed_in: FlaskClient, app: Flask) -> None:
    end = answer_all(signed_in, start_draft(signed_in), answers_for("lawful_to_share"))
    draft_id = draft_id_of(end)
    emergency_draft = draft_id_of(answer_all(signed_in, start_draft(signed_in), {"immediate_risk": "yes"}))
    base = f"/decisions/drafts/{draft_id}"
    urls = ["/decisions/new", f"{base}/questions/immediate_risk", f"{base}/questions/information",
            f"{base}/questions/purpose", f"{base}/questions/necessity", f"{base}/decision",
            f"/decisions/drafts/{emergency_draft}/emergency/what-you-are-sharing",
            f"/decisions/drafts/{emergency_draft}/emergency/who-and-how"]
    signed_in.token = csrf_token(text_of(signed_in.get("/decisions/new")))  # type: ignore[attr-defined]
    _posts(signed_in, urls)
