"""Seeded data for the browser tests and the HTML-validity walk.

`seed_world(app)` creates one organisation, a team, one user of each role (all enrolled for
TOTP with tests.fixtures_mfa.KNOWN_SECRET, plus one supervisor left unenrolled so the set-up
page can be reached), decisions made with the real rules engine, and wizard drafts in every
state the pages need. The drafts for question pages are found by exploring the rule set's
questions, so a question added later gets a draft that reaches it without anyone editing this
file.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from tests.fixtures_decisions import BASE_FACTS, insert_decision

TEAM = "North"
ORG_TYPE = "la_childrens_services"
# Practitioner questions the wizard never shows with a configured organisation, with the reason.
# The route walk checks each is still unreachable (every seeded draft redirects away), so one
# that becomes reachable fails until it is removed here and scanned.
UNREACHABLE_QUESTIONS: dict[str, str] = {
    "s16la_contractor": "its only fact (org_provides_services_for_relevant_person) is an "
                        "organisation setting, always supplied by Organisation.engine_facts()",
}


@dataclass
class SeededUser:
    """What a test needs to sign a user in: id, e-mail and role (password is fixtures' PASSWORD)."""

    id: uuid.UUID
    email: str
    role: str
    display_name: str


@dataclass
class World:
    """Ids of everything seeded, by what pages need them for."""

    users: dict[str, SeededUser] = field(default_factory=dict)
    # role -> decision ids that role's user made, in a useful order for resolving URLs
    own_decisions: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    # every decision id seeded (for review / DPO / records pages seen by others)
    decisions: list[uuid.UUID] = field(default_factory=list)
    # role -> draft ids of that role's user (complete first, then emergency, then per question)
    drafts: dict[str, list[uuid.UUID]] = field(default_factory=dict)
    # role -> question id -> a draft of that user in which the question is the next one
    question_drafts: dict[str, dict[str, uuid.UUID]] = field(default_factory=dict)
    named: dict[str, uuid.UUID] = field(default_factory=dict)
    # question id -> the organisation type under which that question is asked (when not ours)
    question_org_type: dict[str, str] = field(default_factory=dict)

    def user(self, name: str) -> SeededUser:
        return self.users[name]


def _make_user(role: str, email: str, name: str, teams: list[Any]) -> Any:
    from decision_aid import clock
    from decision_aid.extensions import db
    from decision_aid.models import User
    from tests.fixtures_users import password_hash

    user = User(email=email, display_name=name, role=role, password_hash=password_hash(),
                active=True, created_at=clock.now())
    user.teams = list(teams)
    db.session.add(user)
    db.session.commit()
    return user


def seed_world(app: Flask) -> World:
    """Create the seeded data on the app's (empty, migrated) database."""
    from decision_aid.auth import mfa
    from decision_aid.cli import ensure_organisation
    from decision_aid.extensions import db
    from decision_aid.models import Team
    from tests.fixtures_mfa import KNOWN_SECRET

    world = World()
    with app.test_request_context("/"):
        org = ensure_organisation("Test Safeguarding Partnership")
        org.org_type = ORG_TYPE
        team = Team(name=TEAM, organisation_id=org.id)
        db.session.add(team)
        db.session.commit()
        people = {
            "practitioner": ("practitioner", "Pat Practitioner"),
            "practitioner2": ("practitioner", "Paz Practitioner"),
            "supervisor": ("supervisor", "Sam Supervisor"),
            "dpo": ("dpo", "Dee Protection"),
            "admin": ("admin", "Ada Admin"),
            "enrolee": ("supervisor", "Eve Enrolee"),
        }
        for name, (role, display) in people.items():
            user = _make_user(role, f"{name}@example.org", display, [team])
            if name != "enrolee":
                mfa.provision(user, KNOWN_SECRET)
            world.users[name] = SeededUser(user.id, user.email, role, display)

        prac = _load(world.users["practitioner"].id)
        sup = _load(world.users["supervisor"].id)
        proactive = insert_decision(prac, recommendation="lawful_to_share")
        emergency = insert_decision(prac, recommendation="share_urgently")
        not_shared = insert_decision(prac, recommendation="do_not_share")
        advice = insert_decision(prac, recommendation="seek_advice")
        sup_own = insert_decision(sup, recommendation="lawful_to_share")
        world.named.update(proactive=proactive.id, emergency=emergency.id, not_shared=not_shared.id,
                           advice=advice.id, supervisor_own=sup_own.id)
        world.own_decisions = {
            "practitioner": [proactive.id, emergency.id, not_shared.id, advice.id],
            "supervisor": [sup_own.id],
        }
        world.decisions = [proactive.id, emergency.id, not_shared.id, advice.id, sup_own.id]

        for role, name in (("practitioner", "practitioner"), ("supervisor", "supervisor")):
            _seed_drafts(world, role, _load(world.users[name].id))
    return world


def _load(user_id: uuid.UUID) -> Any:
    from decision_aid.extensions import db
    from decision_aid.models import User

    user = db.session.get(User, user_id)
    assert user is not None
    return user


def _seed_drafts(world: World, role: str, user: Any) -> None:
    """A complete draft, emergency drafts (before and after 'what'), and one per question."""
    from decision_aid.wizard import service
    from decision_aid.wizard.outcomes import CATEGORIES, category_records

    today = dt.date(2026, 11, 2)
    preset = {k: v for k, v in BASE_FACTS.items() if not k.startswith("org_")}
    complete = service.create_draft(user, "CASE-30001", today, answers=_complete(preset))
    assert service.next_question(complete) is None, "the complete draft still has questions"
    emergency = service.create_draft(user, "CASE-30002", today, answers={"immediate_risk": True})
    emergency_2 = service.create_draft(user, "CASE-30003", today, answers={"immediate_risk": True})
    service.save_sharing(emergency_2, {"categories": category_records(list(CATEGORIES)[:2]),
                                       "description": "Dates of two injuries"})
    ids = [complete.id, emergency.id, emergency_2.id]
    per_question: dict[str, uuid.UUID] = {}
    for qid, (org_type, answers) in reaching_answers_any_org().items():
        draft = service.create_draft(user, "CASE-30004", today, answers=answers)
        per_question[qid] = draft.id
        ids.append(draft.id)
        if org_type is not None:
            world.question_org_type[qid] = org_type
    world.drafts[role] = ids
    world.question_drafts[role] = per_question
    world.named[f"{role}_complete_draft"] = complete.id
    world.named[f"{role}_emergency_draft"] = emergency.id


def _options(question: Any) -> list[dict[str, Any]]:
    """Every combination of one field's answers is too many; vary the first field, fix the rest."""
    first, *rest = question.fields
    fixed = {f.fact: f.to_fact(f.options[0].value) for f in rest}
    return [{first.fact: first.to_fact(o.value), **fixed} for o in first.options]


def _facts(answers: Mapping[str, Any]) -> dict[str, Any]:
    from decision_aid.organisation import current_organisation

    org = current_organisation()
    assert org is not None
    return {**answers, **org.engine_facts()}


def _complete(preset: Mapping[str, Any]) -> dict[str, Any]:
    """The preset's answers, then the first option for anything else still asked."""
    from decision_aid.wizard import service

    answers: dict[str, Any] = {}
    for _ in range(100):
        question = _next(answers)
        if question is None:
            return answers
        for f in question.fields:
            answers[f.fact] = preset[f.fact] if f.fact in preset else f.to_fact(f.options[0].value)
        answers = _pruned(answers)
    raise AssertionError(f"the wizard never finishes from {preset} ({service.FIRST_QUESTION})")


def _next(answers: Mapping[str, Any]) -> Any:
    import rules
    from decision_aid.wizard import service

    return rules.next_question(_facts(answers), ruleset=service.ruleset())


def _pruned(answers: Mapping[str, Any]) -> dict[str, Any]:
    import rules
    from decision_aid.wizard import service

    facts = _facts(answers)
    org_keys = set(facts) - set(answers)
    return {k: v for k, v in rules.prune_facts(facts, ruleset=service.ruleset()).items()
            if k not in org_keys}


def reaching_answers() -> dict[str, dict[str, Any]]:
    """For each practitioner question that can be reached, answers that make it the next one.

    Walks the wizard as a practitioner would for each preset in tests.fixtures_decisions and
    each scenario of the rule set (answering with the scenario's facts, or the first option when
    it has none), recording the answers given before each question appears. With the seeded
    organisation's own facts; the emergency route (immediate risk) shows no further questions.
    """
    from decision_aid.wizard import service
    from rules.scenarios import load_scenarios
    from tests.fixtures_decisions import RECOMMENDATION_FACTS

    rs = service.ruleset()
    presets = [{**BASE_FACTS, **extra} for extra in RECOMMENDATION_FACTS.values()]
    presets += [dict(s.facts) for s in load_scenarios(rs)]
    found: dict[str, dict[str, Any]] = {}
    for preset in presets:
        preset = {**preset, service.FIRST_QUESTION: False}
        answers: dict[str, Any] = {}
        for _ in range(60):
            question = _next(answers)
            if question is None:
                break
            found.setdefault(question.id, dict(answers))
            for f in question.fields:
                value = preset.get(f.fact)
                allowed = [f.to_fact(o.value) for o in f.options]
                answers[f.fact] = value if value in allowed else allowed[0]
            answers = _pruned(answers)
    return found


_REACHING: dict[str, tuple[str | None, dict[str, Any]]] | None = None


def reaching_answers_any_org() -> dict[str, tuple[str | None, dict[str, Any]]]:
    """reaching_answers() for the seeded organisation, then, for questions only asked of other
    kinds of organisation, the first organisation type under which they are asked (the scan
    switches the organisation's type for those pages only)."""
    global _REACHING
    if _REACHING is not None:
        return _REACHING
    from decision_aid.extensions import db
    from decision_aid.organisation import current_organisation
    from decision_aid.wizard import service

    org = current_organisation()
    assert org is not None
    found: dict[str, tuple[str | None, dict[str, Any]]] = {
        qid: (None, a) for qid, a in reaching_answers().items()}
    wanted = {q.id for q in service.ruleset().questions
              if q.origin == "practitioner" and q.id not in UNREACHABLE_QUESTIONS}
    original = org.org_type
    org_field = next(q for q in service.ruleset().questions if q.id == "org_type").fields[0]
    for option in org_field.options:
        if not wanted - set(found):
            break
        if option.value == original:
            continue
        org.org_type = option.value
        for qid, answers in reaching_answers().items():
            found.setdefault(qid, (option.value, answers))
    org.org_type = original
    db.session.commit()
    _REACHING = found
    return found
