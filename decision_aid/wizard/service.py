"""The wizard's domain logic: drafts, which page comes next, evaluation and submission.

Views call these functions and only parse, redirect or render. Everything here works on the
database session and the loaded rule set; nothing reads the request.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from flask import current_app, g, has_request_context
from sqlalchemy import Table, bindparam, delete, select, text
from sqlalchemy.exc import IntegrityError

import rules
from decision_aid import clock
from decision_aid.crypto import Packed, decrypted_from, pack_json, seal_now
from decision_aid.database import refuse_stray_write, write_transaction
from decision_aid.extensions import db
from decision_aid.models import Organisation, Team, User
from decision_aid.models.base import insert_values
from decision_aid.models.decision import Decision, Draft
from decision_aid.models.operations import CaseKey
from decision_aid.models.user import team_membership
from decision_aid.organisation import current_organisation
from decision_aid.review.sampling import insert_review_rows
from decision_aid.wizard.outcomes import EMERGENCY_OUTCOME, SHARING_OUTCOMES, departs

FIRST_QUESTION = "immediate_risk"


def ruleset() -> rules.RuleSet:
    """The rule set the app loaded at start-up (never reloaded per request)."""
    rs: rules.RuleSet = current_app.extensions["ruleset"]
    return rs


def _org() -> Organisation:
    org = current_organisation()
    assert org is not None
    return org


# Drafts ---------------------------------------------------------------------------------------

def create_draft(user: User, case_ref: str, as_at: dt.date, *, answers: Mapping[str, Any] | None = None,
                 reconsiders: Decision | None = None, completes: Decision | None = None) -> Draft:
    """A new server-side draft; answers never live in the cookie."""
    draft = _new_draft(user, case_ref, as_at, answers=answers, reconsiders=reconsiders, completes=completes)
    db.session.add(draft)
    db.session.commit()
    return draft


def _new_draft(user: User, case_ref: str, as_at: dt.date, *, answers: Mapping[str, Any] | None = None,
               reconsiders: Decision | None = None, completes: Decision | None = None,
               sharing: Mapping[str, Any] | None = None) -> Draft:
    now = clock.now()
    return Draft(practitioner_id=user.id, case_ref=case_ref, as_at=as_at, answers=dict(answers or {}),
                 emergency=False, sharing=dict(sharing or {}), created_at=now, updated_at=now,
                 reconsiders_decision_id=reconsiders.id if reconsiders else None,
                 completes_decision_id=completes.id if completes else None)


def find_draft(draft_id: uuid.UUID, user: User) -> Draft | None:
    """The user's own draft, or None: someone else's draft looks exactly like a missing one."""
    return db.session.scalars(
        select(Draft).where(Draft.id == draft_id, Draft.practitioner_id == user.id)).first()


def drafts_for_practitioner(user: User) -> list[Draft]:
    """Drafts to resume, most recently touched first."""
    return list(db.session.scalars(
        select(Draft).where(Draft.practitioner_id == user.id).order_by(Draft.updated_at.desc())))


def purge_abandoned_drafts(now: dt.datetime) -> int:
    """Delete drafts untouched for longer than the organisation's draft retention period."""
    org = db.session.scalars(select(Organisation).limit(1)).first()
    days = org.draft_retention_days if org else 30
    cutoff = now - dt.timedelta(days=days)
    result = db.session.execute(delete(Draft).where(Draft.updated_at < cutoff))
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# Facts and navigation -------------------------------------------------------------------------

def facts_for(draft: Draft) -> dict[str, Any]:
    """Answers plus the organisation's own facts (which are settings, never asked)."""
    return {**draft.answers, **_org().engine_facts()}


def in_emergency_route(draft: Draft) -> bool:
    """Immediate risk diverts to 'share now', except when completing an emergency record."""
    return draft.completes_decision_id is None and draft.answers.get(FIRST_QUESTION) is True


def next_question(draft: Draft) -> rules.Question | None:
    """The first applicable question with an unanswered fact; None when all are answered."""
    return _questions_now(draft)[1]


def applicable(draft: Draft) -> list[rules.Question]:
    """The questions that apply given the answers so far, in asking order."""
    return list(_questions_now(draft)[0])


def _questions_now(draft: Draft) -> tuple[tuple[rules.Question, ...], rules.Question | None]:
    """Applicable questions and the next to answer, worked out once per request and answers.

    A question page asks three things of the same answers (may it show, which is next, which
    is before it); the question conditions are evaluated once for all three. Same result as
    `rules.next_question`: the first applicable question with a fact unanswered (or null).
    """
    facts = facts_for(draft)
    key = (draft.id, json.dumps(facts, sort_keys=True, default=str))
    memo: dict[Any, Any] = g.setdefault("wizard_questions", {}) if has_request_context() else {}
    if key not in memo:
        questions = tuple(rules.applicable_questions(facts, ruleset=ruleset()))
        answered = {fact for fact, value in facts.items() if value is not None}
        upcoming = next((q for q in questions if any(f not in answered for f in q.facts)), None)
        memo[key] = (questions, upcoming)
    cached: tuple[tuple[rules.Question, ...], rules.Question | None] = memo[key]
    return cached


def question_by_id(question_id: str) -> rules.Question:
    """A practitioner question by id (the URL converter has already checked it exists)."""
    return next(q for q in ruleset().questions if q.id == question_id)


def may_show_question(draft: Draft, question: rules.Question) -> bool:
    """A page may be shown if it applies and is answered (Change) or is the next one to answer."""
    if in_emergency_route(draft) and question.id != FIRST_QUESTION:
        return False
    questions = applicable(draft)
    if question.id not in {q.id for q in questions}:
        return False
    if all(fact in draft.answers for fact in question.facts):
        return True
    upcoming = next_question(draft)
    return upcoming is not None and upcoming.id == question.id


def previous_question(draft: Draft, question: rules.Question) -> rules.Question | None:
    """The applicable question before this one, for the back link."""
    before = None
    for candidate in applicable(draft):
        if candidate.id == question.id:
            return before
        before = candidate
    return before


def save_answers(draft: Draft, question: rules.Question, values: Mapping[str, str]) -> None:
    """Store the page's answers, drop those that no longer apply, and leave the emergency route
    when immediate risk changes to no."""
    answers = dict(draft.answers)
    for field in question.fields:
        answers[field.fact] = field.to_fact(values[field.fact])
    org_facts = _org().engine_facts()
    pruned = rules.prune_facts({**answers, **org_facts}, ruleset=ruleset())
    draft.answers = {k: v for k, v in pruned.items() if k not in org_facts}
    draft.emergency = in_emergency_route(draft)
    draft.updated_at = clock.now()
    db.session.commit()


def save_sharing(draft: Draft, values: Mapping[str, Any]) -> None:
    """Keep the decision or emergency pages' inputs on the draft while in progress."""
    draft.sharing = {**draft.sharing, **values}
    draft.updated_at = clock.now()
    db.session.commit()


EngineInputs = tuple[dict[str, Any], dt.date, dict[str, Any]]


@dataclass(frozen=True)
class Evaluation:
    """The engine's output with the inputs it came from, so that a submit can reuse it (under
    the write lock) exactly while those inputs still hold, instead of evaluating again."""

    inputs: EngineInputs
    result: dict[str, Any]
    full: bool  # includes 'would change', as a stored Decision needs


def _engine_inputs(draft: Draft) -> EngineInputs:
    """Everything the engine's output depends on besides the rule set loaded at start-up."""
    return facts_for(draft), draft.as_at, _org().engine_settings()


def evaluation(draft: Draft, *, full: bool = True) -> Evaluation:
    """Evaluate the draft; `full=False` leaves out 'would change' (the costly part) for pages
    that need only the recommendation."""
    facts, as_at, settings = inputs = _engine_inputs(draft)
    result = rules.evaluate(facts, as_at, settings, ruleset=ruleset(), with_would_change=full)
    return Evaluation(inputs, result, full)


def evaluate(draft: Draft, with_would_change: bool = True) -> dict[str, Any]:
    """The engine's full output for the draft as it stands."""
    return evaluation(draft, full=with_would_change).result


@dataclass(frozen=True)
class SummaryRow:
    """One answer on Check your answers: the question, the answer and where to change it."""

    question_id: str
    label: str
    answer: str


def answer_rows(answers: Mapping[str, Any], questions: list[rules.Question]) -> list[SummaryRow]:
    """Readable rows for the answers given, in asking order (used on pages and in records)."""
    rows = []
    for question in questions:
        for field in question.fields:
            if field.fact not in answers:
                continue
            value = field.from_fact(answers[field.fact])
            label = next((o.label for o in field.options if o.value == value), value)
            title = question.title if len(question.fields) == 1 else field.label
            rows.append(SummaryRow(question.id, title, label))
    return rows


# Submission -----------------------------------------------------------------------------------

def _record_event(event_type: str, **kwargs: Any) -> None:
    """The audit engineer's record_event, appended inside our transaction."""
    try:
        from decision_aid.audit import record_event
    except ImportError:  # the package's __init__ may not re-export it yet
        from decision_aid.audit.chain import record_event
    record_event(event_type, **kwargs)


# The same upsert on SQLite (3.35+) and PostgreSQL. Written as text because SQLAlchemy gives
# INSERT ... ON CONFLICT no cache key: built with insert().on_conflict_do_update() it was
# compiled again on every submit (0.3-0.7 ms of CPU, target T23); text() is compiled once.
_NEXT_REFERENCE = text(
    "INSERT INTO decision_reference_counter (year, last) VALUES (:year, 1) "
    "ON CONFLICT (year) DO UPDATE SET last = decision_reference_counter.last + 1 "
    "RETURNING last")


def next_reference(year: int) -> str:
    """DA-YYYY-NNNNNN, sequential per year: one atomic upsert, inside the write transaction."""
    session = db.session()
    refuse_stray_write(session, "the decision reference upsert")
    number = session.connection().execute(_NEXT_REFERENCE, {"year": year}).scalar_one()
    return f"DA-{year}-{int(number):06d}"


def decision_for_draft(draft_id: uuid.UUID, user: User) -> Decision | None:
    """The decision a draft became (a repeated submit lands on the same confirmation)."""
    return db.session.scalars(select(Decision).where(
        Decision.draft_id == draft_id, Decision.practitioner_id == user.id)).first()


_TEAMS = cast(Table, Team.__table__)
_CASE_KEYS = cast(Table, CaseKey.__table__)
# Read with the draft under the lock, so the write block needs no statement of its own for them:
# the practitioner's first team by name (what `user.teams[0]` loads: the relationship orders
# by name) and the case's live data key (what `crypto.live_key_id` reads before sealing).
_FIRST_TEAM = (select(team_membership.c.team_id)
               .join(_TEAMS, _TEAMS.c.id == team_membership.c.team_id)
               .where(team_membership.c.user_id == Draft.practitioner_id)
               .order_by(_TEAMS.c.name).limit(1).scalar_subquery())
_LIVE_KEY = (select(_CASE_KEYS.c.id)
             .where(_CASE_KEYS.c.case_ref == Draft.case_ref, _CASE_KEYS.c.destroyed_at.is_(None))
             .limit(1).scalar_subquery())
_DRAFTS = cast(Table, Draft.__table__)
_DECISION_INSERT = cast(Table, Decision.__table__).insert()
_DRAFT_DELETE = delete(_DRAFTS).where(_DRAFTS.c.id == bindparam("draft_id"))
# The columns a submit takes from the draft, read under the lock to compare with the draft the
# request loaded (a Core read is about a tenth of the ORM's CPU for the same row).
_LOCKED_COLUMNS = ("content_ciphertext", "case_ref", "as_at", "completes_decision_id",
                   "reconsiders_decision_id")
_LOCKED_READ = (select(*(_DRAFTS.c[name] for name in _LOCKED_COLUMNS), _FIRST_TEAM, _LIVE_KEY)
                .where(_DRAFTS.c.id == bindparam("draft_id"),
                       _DRAFTS.c.practitioner_id == bindparam("user_id"))
                .with_for_update())


@dataclass(frozen=True)
class LockedDraft:
    """The draft as read under the write lock, with its practitioner's first team and its
    case's live data key id (None: no team; no live key yet, so sealing creates one)."""

    draft: Draft
    team_id: int | None
    live_key_id: uuid.UUID | None


def _locked_draft(draft_id: uuid.UUID, user: User) -> LockedDraft | None:
    """Re-read the draft under the write lock (row lock on PostgreSQL) so only one submit wins.

    Its state as of now, under the lock, decides (gone means another submit won). The draft
    the request already loaded is used when every column a submit takes from it, the sealed
    content's ciphertext included, is as read now; otherwise the draft is loaded again.
    """
    session = db.session()
    row = session.connection().execute(
        _LOCKED_READ, {"draft_id": draft_id, "user_id": user.id}).first()
    if row is None:
        return None
    key = row[-1]
    loaded = session.identity_map.get(session.identity_key(Draft, draft_id))
    if not isinstance(loaded, Draft) or not _as_read(loaded, row):
        loaded = session.scalars(select(Draft).where(
            Draft.id == draft_id, Draft.practitioner_id == user.id)
            .execution_options(populate_existing=True)).one()
    return LockedDraft(loaded, row[-2], None if key is None else uuid.UUID(str(key)))


def _as_read(draft: Draft, row: Any) -> bool:
    """Whether the loaded draft holds these column values and its content decrypts from them."""
    source = decrypted_from(draft)
    if source is None or source != row[0]:
        return False
    state = draft.__dict__
    return all(state.get(name, _MISSING) == row[i] for i, name in enumerate(_LOCKED_COLUMNS))


_MISSING = object()


def _decision_row(draft: Draft, user: User, result: dict[str, Any], outcome: str,
                  sharing: dict[str, Any], team_id: int | None) -> Decision:
    """The new Decision, not added to the session (`_insert_decision` writes it with Core)."""
    now = clock.now()
    facts = facts_for(draft)
    recommendation = str(result["recommendation"])
    bases = result.get("lawful_bases") or []
    emergency = outcome == EMERGENCY_OUTCOME
    hours = _org().emergency_completion_hours
    return Decision(
        id=uuid.uuid4(), reference=next_reference(now.year), case_ref=draft.case_ref,
        organisation_id=_org().id, practitioner_id=user.id,
        team_id=team_id, as_at=draft.as_at, submitted_at=now,
        emergency=emergency, emergency_due_at=now + dt.timedelta(hours=hours) if emergency else None,
        completes_decision_id=draft.completes_decision_id,
        reconsiders_decision_id=draft.reconsiders_decision_id,
        answers=dict(draft.answers), facts=facts, result=result,
        ruleset_version=str(result["ruleset_version"]), ruleset_digest=str(result["ruleset_digest"]),
        recommendation=recommendation, primary_lawful_basis=bases[0] if bases else None,
        outcome=outcome, departed_from_recommendation=departs(recommendation, outcome),
        shared=outcome in SHARING_OUTCOMES, consent_position=facts.get("consent_position"),
        sharing=sharing, draft_id=draft.id)


def _insert_decision(decision: Decision, live_key: uuid.UUID | None,
                     packed: Packed | None = None) -> None:
    """Seal and insert the decision and its review rows with Core statements, in the write
    transaction: the same rows as adding it to the session, without the unit of work's CPU.
    `packed`: the content compressed before the lock (`_packed_early`)."""
    session = db.session()
    refuse_stray_write(session, "the decision insert")
    conn = session.connection()
    seal_now(decision, conn, key_id=live_key, packed=packed)
    conn.execute(_DECISION_INSERT, insert_values(decision))
    insert_review_rows(session, decision)


def _delete_draft(draft: Draft) -> None:
    """Delete the submitted draft with one statement; the loaded object leaves the session, as
    a deleted one would, so nothing reloads it."""
    session = db.session()
    refuse_stray_write(session, "the draft delete")
    session.connection().execute(_DRAFT_DELETE, {"draft_id": draft.id})
    session.expunge(draft)


def _event_type(decision: Decision) -> str:
    from decision_aid.audit import events

    if decision.emergency:
        return events.EMERGENCY_RECORDED
    if decision.completes_decision_id:
        return events.EMERGENCY_COMPLETED
    if decision.reconsiders_decision_id:
        return events.DECISION_RECONSIDERED
    return events.DECISION_SUBMITTED


def _audit_data(decision: Decision) -> dict[str, Any]:
    """Ids and codes only: audit bytes are kept forever, so never free text."""
    data: dict[str, Any] = {
        "decision_id": str(decision.id), "recommendation": decision.recommendation,
        "outcome": decision.outcome, "departed": decision.departed_from_recommendation,
        "emergency": decision.emergency, "ruleset_version": decision.ruleset_version,
        "ruleset_digest": decision.ruleset_digest[:64],
    }
    for name in ("completes_decision_id", "reconsiders_decision_id"):
        if value := getattr(decision, name):
            data[name] = str(value)
    return data


def _evaluate_outside_lock(draft_id: uuid.UUID, user: User) -> Evaluation | None:
    """The full evaluation (with 'would change', the costly part) before taking the write lock,
    so concurrent submissions queue only for the insert and the audit append (target T23)."""
    draft = find_draft(draft_id, user)
    if draft is None:
        return None
    return evaluation(draft)


def _packed_early(draft_id: uuid.UUID, evaluated: Evaluation | None,
                  sharing: dict[str, Any]) -> Packed | None:
    """The sealed content the decision will have if the draft is unchanged under the lock,
    compressed now, before the lock: compressing a decision's 52 KB takes about 0.1 ms that
    would otherwise hold up every other writer (target T23). Sealing uses it only when its
    plaintext is exactly what is sealed then (`crypto.Packed`); None when the request has not
    loaded the draft or evaluated it in full."""
    session = db.session()
    draft = session.identity_map.get(session.identity_key(Draft, draft_id))
    if not isinstance(draft, Draft) or evaluated is None or not evaluated.full:
        return None
    content: dict[str, Any] = dict.fromkeys(Decision.__sealed_fields__)
    content.update(answers=dict(draft.answers), result=evaluated.result, sharing=sharing)
    return pack_json(content)


def _result_under_lock(draft: Draft, evaluated: Evaluation | None) -> dict[str, Any]:
    """Reuse the early evaluation unless its inputs changed meanwhile (then evaluate again)."""
    if evaluated is not None and evaluated.full and evaluated.inputs == _engine_inputs(draft):
        return evaluated.result
    return evaluate(draft)


def submit(draft_id: uuid.UUID, user: User, outcome: str, sharing: dict[str, Any],
           evaluated: Evaluation | None = None) -> uuid.UUID:
    """Store the immutable Decision, its audit event and the draft's deletion in one transaction;
    return the decision's id (callers only redirect to it, so the row is not read back).

    Only this block takes the write lock (views that submit are `@reads_first`): the rules are
    evaluated before it, or `evaluated` (the view's own full evaluation) is reused, and checked
    again under the lock. A repeated or concurrent submit of the same draft finds it gone (or
    loses on the unique draft_id) and gets the decision already stored: never two decisions.
    """
    if evaluated is None or not evaluated.full:
        evaluated = _evaluate_outside_lock(draft_id, user)
    packed = _packed_early(draft_id, evaluated, sharing)
    try:
        with write_transaction(keep_loaded=True):
            locked = _locked_draft(draft_id, user)
            if locked is None:
                raise DraftAlreadySubmitted
            draft = locked.draft
            result = _result_under_lock(draft, evaluated)
            decision = _decision_row(draft, user, result, outcome, sharing, locked.team_id)
            decision_id = decision.id
            _insert_decision(decision, locked.live_key_id, packed)
            _record_event(_event_type(decision), actor=user, case_ref=decision.case_ref,
                          decision_ref=decision.reference, data=_audit_data(decision))
            _delete_draft(draft)
    except (DraftAlreadySubmitted, IntegrityError):
        existing = decision_for_draft(draft_id, user)
        if existing is None:
            raise DraftAlreadySubmitted from None
        return existing.id
    return decision_id


class DraftAlreadySubmitted(LookupError):
    """The draft is gone and no decision came from it (deleted, purged or never ours)."""


# Emergency, completion and reconsideration ---------------------------------------------------

def submit_emergency(draft_id: uuid.UUID, user: User, recipient: Mapping[str, Any]) -> uuid.UUID:
    """'Share now': store the emergency record stamped with the time; the full record follows."""
    draft = find_draft(draft_id, user)
    sharing = {**(draft.sharing if draft else {}), **recipient,
               "shared_at": clock.now().isoformat(timespec="seconds")}
    return submit(draft_id, user, EMERGENCY_OUTCOME, sharing)


def start_completion(decision: Decision, user: User) -> Draft:
    """A draft for the full record of an emergency decision, carrying what was shared.

    The questions start afresh: every practitioner question applies only when there is no
    immediate risk, so the full record asks them as things stand now, which is what sets out
    the lawful basis for the share after the event. The emergency record keeps its own answers.
    Started once: a later (or concurrent) click gets the draft already started, checked again
    under the write lock, which is the only place this writes (its view is `@reads_first`).
    """
    carried = {k: v for k, v in decision.sharing.items()
               if k in ("categories", "description", "recipient_org", "recipient_role", "method")}
    with write_transaction():
        draft = find_completion_draft(decision, user)
        if draft is None:
            draft = _new_draft(user, decision.case_ref, decision.as_at, completes=decision,
                               sharing=carried)
            db.session.add(draft)
    return draft


def find_completion_draft(decision: Decision, user: User) -> Draft | None:
    """A full-record draft already started for this emergency decision, if any."""
    return db.session.scalars(select(Draft).where(
        Draft.completes_decision_id == decision.id, Draft.practitioner_id == user.id)).first()


def start_reconsideration(decision: Decision, user: User) -> Draft:
    """A new decision linked to the old one (which stays as it was), starting from its answers."""
    return create_draft(user, decision.case_ref, clock.today(), answers=decision.answers,
                        reconsiders=decision)


def completion_hours() -> int:
    """Hours allowed to complete the full record after emergency sharing (a setting)."""
    return _org().emergency_completion_hours
