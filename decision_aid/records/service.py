"""Build what a record shows, from the STORED decision and trace, never by re-running the engine.

A record must explain the decision as it was made: the rule set may have changed since, so
conclusions, reasons and citations are read from `decision.result` (the engine's full output,
trace included). The current rule set is used only for wording that the trace does not carry
(question text, requirement descriptions), and the record prints the stored rule-set version
and digest so a reader knows which law was applied.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select

from decision_aid import crypto
from decision_aid.audit import events
from decision_aid.extensions import db
from decision_aid.models import Organisation, Team, User
from decision_aid.models.audit import AuditEvent
from decision_aid.models.decision import SHARED_OUTCOMES, Decision
from decision_aid.records import labels

log = logging.getLogger(__name__)

SUBMISSION_EVENTS: tuple[str, ...] = (events.DECISION_SUBMITTED, events.EMERGENCY_RECORDED)
LIST_KEYS: tuple[str, ...] = tuple(labels.LIST_TITLES)
CHOICE_KEYS: tuple[str, ...] = tuple(labels.CHOICE_TITLES)
NOT_REVIEWED = "Not yet reviewed"


@dataclass(frozen=True)
class Citation:
    """A pinpoint citation with its full URL (printed, so paper records stay checkable)."""

    label: str
    url: str


@dataclass(frozen=True)
class Conclusion:
    """A lawful basis, condition, duty or choice, with the engine's reason and citations."""

    id: str
    title: str
    because: str
    citations: tuple[Citation, ...]


@dataclass(frozen=True)
class QuestionAnswer:
    """One question and its answer(s); printed as one block that never splits across pages."""

    question: str
    answers: tuple[tuple[str, str], ...]  # (field label or "", answer text)


@dataclass(frozen=True)
class Row:
    """A label and a value in a summary list."""

    label: str
    value: str


@dataclass
class Record:
    """Everything the record templates (screen, print view, PDF) need."""

    decision: Decision
    organisation_name: str
    marking: str
    practitioner_name: str
    practitioner_role: str
    team_name: str
    decided_at: dt.datetime
    as_at: dt.date
    recommendation: str
    outcome: str
    departed: bool
    reasons: str
    emergency_rows: list[Row]
    questions: list[QuestionAnswer]
    organisation_facts: list[Row]
    conclusion_lists: list[tuple[str, list[Conclusion]]]
    choices: list[tuple[str, Conclusion]]
    sharing_rows: list[Row]
    telling_rows: list[Row]
    advice: str
    requirements: list[str]
    missing_facts: list[str]
    reviews: list[dict[str, Any]]
    review_status: str
    ruleset_version: str
    ruleset_digest: str
    verification_code: str
    verification_detail: str
    viewer_name: str
    viewer_role: str
    rendered_at: dt.datetime
    action: str
    related: list[Row] = field(default_factory=list)

    @property
    def title(self) -> str:
        """Document title: also the PDF's title metadata."""
        return f"Decision record {self.decision.reference}"

    @property
    def footer(self) -> str:
        """Viewer and time, printed on every page (T37: who printed it and when)."""
        return (f"{self.action} by {self.viewer_name} ({self.viewer_role}) on "
                f"{self.rendered_at:%d %B %Y at %H:%M} UTC")


# --- small lookups -------------------------------------------------------------------------


def ruleset() -> Any:
    """The rule set loaded at start-up (labels only; conclusions come from the stored result)."""
    return current_app.extensions.get("ruleset")


def _steps(decision: Decision) -> dict[str, dict[str, Any]]:
    return {str(step.get("rule")): step for step in (decision.result or {}).get("trace", [])}


def _citations(step: dict[str, Any]) -> tuple[Citation, ...]:
    labels_ = step.get("citations") or []
    urls = step.get("urls") or []
    return tuple(Citation(str(text), str(url)) for text, url in zip(labels_, urls, strict=False))


def _rule_citations(rule_id: str) -> tuple[Citation, ...]:
    """Fallback when a stored trace lacks a step: the rule's first version's citations."""
    rs = ruleset()
    rule = getattr(rs, "rules", {}).get(rule_id) if rs else None
    if rule is None or not rule.versions:
        return ()
    return tuple(Citation(c.label(rs.sources), c.url) for c in rule.versions[-1].citations)


def conclusion(rule_id: str, steps: dict[str, dict[str, Any]],
               title: str | None = None) -> Conclusion:
    """A conclusion as stored in the trace (falling back to the rule set's wording)."""
    step = steps.get(rule_id)
    if step is not None:
        return Conclusion(rule_id, title or str(step.get("title") or rule_id),
                          str(step.get("because") or ""), _citations(step))
    rs = ruleset()
    rule = getattr(rs, "rules", {}).get(rule_id) if rs else None
    return Conclusion(rule_id, title or (rule.title if rule else labels.humanise(rule_id)), "",
                      _rule_citations(rule_id))


def _choice_rule(key: str, value: str) -> str | None:
    rs = ruleset()
    options = (getattr(rs, "conclusions", None) or {}).get("choices", {}).get(key, {})
    for option in options.get("options", []):
        if option.get("value") == value:
            return str(option.get("rule"))
    return None


def _requirement_text(requirement_id: str) -> str:
    rs = ruleset()
    for item in (getattr(rs, "conclusions", None) or {}).get("requirements", []):
        if item.get("id") == requirement_id:
            return str(item.get("description") or labels.humanise(requirement_id))
    return labels.humanise(requirement_id)


def format_when(value: Any) -> str:
    """A stored date/time (datetime or ISO text) in the record's unambiguous UTC form."""
    if value in (None, ""):
        return "Not recorded"
    moment = value
    if isinstance(value, str) and len(value) == 10:  # a date only (the wizard's "shared on")
        try:
            return f"{dt.date.fromisoformat(value):%d %B %Y}"
        except ValueError:
            return value
    if isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
    if isinstance(moment, dt.datetime):
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC)
        return f"{moment:%d %B %Y at %H:%M} UTC"
    if isinstance(moment, dt.date):
        return f"{moment:%d %B %Y}"
    return str(value)


# --- questions and answers -----------------------------------------------------------------


def _answered_facts(decision: Decision) -> dict[str, Any]:
    """The facts the practitioner gave (answers); older rows may only have the merged facts."""
    answers = dict(decision.answers or {})
    return answers if answers else dict(decision.facts or {})


def _field_answer(field_: Any, value: Any) -> str:
    for option in getattr(field_, "options", ()):
        if option.value == value or (field_.kind == "bool" and isinstance(value, bool)
                                     and option.value == ("yes" if value else "no")):
            return str(option.label)
    return labels.humanise(value)


def questions_and_answers(decision: Decision) -> list[QuestionAnswer]:
    """Every question answered, in wizard order, with its answer; then any stray answered fact."""
    answers = _answered_facts(decision)
    rs = ruleset()
    result: list[QuestionAnswer] = []
    used: set[str] = set()
    for question in getattr(rs, "questions", None) or []:
        rows = [(f.label if len(question.fields) > 1 else "", _field_answer(f, answers[f.fact]))
                for f in question.fields if f.fact in answers]
        if rows:
            used.update(f.fact for f in question.fields)
            result.append(QuestionAnswer(question.title, tuple(rows)))
    for fact, value in answers.items():
        if fact in used or fact in _organisation_fact_ids(decision):
            continue
        result.append(QuestionAnswer(_fact_description(fact), (("", _value_label(fact, value)),)))
    return result


def _value_label(fact: str, value: Any) -> str:
    """The wizard's wording for a fact's value when a question offers it, else a readable id."""
    for question in getattr(ruleset(), "questions", None) or []:
        for field_ in question.fields:
            if field_.fact == fact:
                return _field_answer(field_, value)
    return labels.humanise(value)


def _fact_description(fact: str) -> str:
    rs = ruleset()
    spec = getattr(rs, "facts", {}).get(fact) if rs else None
    text = (spec.description if spec else "") or labels.humanise(fact)
    return text[:1].upper() + text[1:]


def _organisation_fact_ids(decision: Decision) -> set[str]:
    return {key for key in (decision.facts or {}) if key.startswith("org_")}


def organisation_facts(decision: Decision) -> list[Row]:
    """Facts that came from the organisation's settings rather than from a question."""
    answers = decision.answers or {}
    return [Row(_fact_description(key), _value_label(key, value))
            for key, value in sorted((decision.facts or {}).items())
            if key.startswith("org_") and key not in answers]


# --- conclusions ---------------------------------------------------------------------------


def conclusion_lists(decision: Decision) -> list[tuple[str, list[Conclusion]]]:
    """Every met basis, condition and duty, with citation and URL (empty lists shown as such)."""
    result = decision.result or {}
    steps = _steps(decision)
    return [(labels.LIST_TITLES[key],
             [conclusion(str(item), steps) for item in result.get(key, [])])
            for key in LIST_KEYS]


def choices(decision: Decision) -> list[tuple[str, Conclusion]]:
    """Regime, duty of confidence, telling the person, purpose compatibility, human rights."""
    result = decision.result or {}
    steps = _steps(decision)
    found: list[tuple[str, Conclusion]] = []
    for key in CHOICE_KEYS:
        value = result.get(key)
        if value is None:
            continue
        value_label = labels.label(labels.CHOICES.get(key, {}), value)
        rule_id = _choice_rule(key, str(value))
        if rule_id:
            found.append((labels.CHOICE_TITLES[key], conclusion(rule_id, steps, value_label)))
        else:
            found.append((labels.CHOICE_TITLES[key], Conclusion(str(value), value_label, "", ())))
    return found


# --- sharing, telling, advice ----------------------------------------------------------------


def _sharing(decision: Decision) -> dict[str, Any]:
    return dict(decision.sharing or {})


def _disposed(decision: Decision) -> bool:
    """After disposal the sealed sharing details read as a tombstone: say so, not "not recorded"."""
    return crypto.is_tombstone(decision.sharing)


def sharing_rows(decision: Decision) -> list[Row]:
    """What was shared, with whom, how and when (ICO Annex B; Module K)."""
    sharing = _sharing(decision)
    if _disposed(decision):
        return [Row("What was shared", crypto.DISPOSED_TEXT)]
    if not decision.shared:
        return [Row("Information shared", "No: nothing was shared under this decision")]
    return [
        Row("What was shared", labels.humanise(sharing.get("description") or sharing.get("what"))),
        Row("Categories of information", labels.humanise(sharing.get("categories"))),
        Row("Recipient organisation", labels.humanise(sharing.get("recipient_org"))),
        Row("Recipient role", labels.humanise(sharing.get("recipient_role"))),
        Row("How it was shared", labels.label(labels.sharing_methods(), sharing.get("method"))),
        Row("When it was shared", format_when(sharing.get("shared_at"))),
    ]


def _told_text(value: Any) -> str:
    if isinstance(value, str) and value.lower() in {"yes", "no"}:
        value = value.lower() == "yes"
    return labels.humanise(value)


def telling_rows(decision: Decision) -> list[Row]:
    """Whether the person was told and, if not, why not (GR2; GIRFEC)."""
    sharing = _sharing(decision)
    consent = decision.consent_position or (decision.facts or {}).get("consent_position")
    rows = [Row("Consent position", _value_label("consent_position", consent)),
            Row("Was the person told", _told_text(sharing.get("person_told")))]
    told = sharing.get("person_told")
    if told in (False, "no", "No") or sharing.get("not_told_reason"):
        rows.append(Row("Why the person was not told",
                        labels.humanise(sharing.get("not_told_reason"))))
    return rows


def advice_text(decision: Decision) -> str:
    """Whose advice was sought (manager, DSL, DPO, Caldicott Guardian, legal)."""
    advice = _sharing(decision).get("advice_from")
    if advice in (None, "", [], {}):
        return "No advice recorded"
    if isinstance(advice, list):
        return "; ".join(labels.humanise(item) for item in advice)
    return labels.humanise(advice)


# --- emergency, related decisions, reviews, verification ------------------------------------


def _completion(decision: Decision) -> Decision | None:
    return db.session.scalars(select(Decision).where(Decision.completes_decision_id == decision.id)
                              .order_by(Decision.submitted_at).limit(1)).first()


def emergency_rows(decision: Decision) -> list[Row]:
    """The emergency flag and whether (and when) the record was completed afterwards."""
    if not decision.emergency:
        return [Row("Emergency", "No")]
    rows = [Row("Emergency", "Yes: shared first under the emergency route"),
            Row("Record to be completed by", format_when(decision.emergency_due_at))]
    completed = _completion(decision)
    rows.append(Row("Completion", f"Completed by {completed.reference} on "
                                  f"{format_when(completed.submitted_at)}" if completed
                    else "Not yet completed"))
    return rows


def related_rows(decision: Decision) -> list[Row]:
    """Links to the decision this one completes or reconsiders."""
    rows: list[Row] = []
    for label_, other_id in (("Completes emergency decision", decision.completes_decision_id),
                             ("Reconsiders decision", decision.reconsiders_decision_id)):
        if other_id is not None:
            other = db.session.get(Decision, other_id)
            rows.append(Row(label_, other.reference if other else str(other_id)))
    return rows


def review_summary(decision: Decision) -> list[dict[str, Any]]:
    """Review verdicts for a decision, oldest first; [] when there are none (or no review module).

    Hook shared with the review area (it owns decision_aid/models/review.py): each item is a
    dict with `verdict`, `reviewer`, `reviewed_at` and `comments`. The import is inside a try so
    records keep working without the review area.
    """
    try:
        from decision_aid.models.review import VERDICT_LABELS, Review
    except ImportError:
        return []
    rows = db.session.scalars(select(Review).where(Review.decision_id == decision.id)
                              .order_by(Review.created_at)).all()
    return [{"verdict": labels.label(VERDICT_LABELS, row.verdict),
             "reviewer": _user_name(row.reviewer_id),
             "reviewed_at": format_when(row.created_at),
             "comments": _review_comments(row)} for row in rows]


def _review_comments(review: Any) -> str:
    """The reviewer's reasons (sealed under the case key), or the disposal marker once destroyed."""
    text = getattr(review, "reasons_text", None)
    if text is not None:
        return str(text)
    return str(getattr(review, "reasons", "") or "")


def review_status(decision: Decision, reviews: list[dict[str, Any]]) -> str:
    """Awaiting review, reviewed, or not yet reviewed (the review area's state table, if any)."""
    if reviews:
        return "Reviewed"
    try:
        from decision_aid.models.review import AWAITING, ReviewState
    except ImportError:
        return NOT_REVIEWED
    state = db.session.get(ReviewState, decision.id)
    if state is not None and state.review_status == AWAITING:
        return "Not yet reviewed: awaiting review by a supervisor"
    return NOT_REVIEWED


def _user_name(user_id: Any) -> str:
    user = db.session.get(User, user_id) if user_id else None
    return user.display_name if user else "Unknown"


def submission_event(decision: Decision) -> AuditEvent | None:
    """The audit entry that recorded the decision (its seq and hash are the verification code)."""
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.decision_ref == decision.reference,
                                 AuditEvent.event_type.in_(SUBMISSION_EVENTS))
        .order_by(AuditEvent.seq).limit(1)).first()


def verification(decision: Decision) -> tuple[str, str]:
    """(code, detail): the code printed large, the detail with full hash and checkpoint (T19)."""
    from decision_aid.audit import latest_checkpoint, verification_code

    event = submission_event(decision)
    if event is None:
        return "No audit entry found", "The audit log holds no submission entry for this decision."
    detail = f"Audit entry {event.seq}, hash {event.entry_hash}"
    try:
        checkpoint = latest_checkpoint()
    except Exception:  # pragma: no cover - no checkpoint directory configured
        checkpoint = None
    if checkpoint is not None:
        match = re.match(r"checkpoint-(\d+)-", checkpoint.name)
        if match and int(match.group(1)) >= event.seq:
            detail += f"; covered by signed checkpoint {checkpoint.name}"
    return verification_code(event), detail


# --- the record ----------------------------------------------------------------------------


def _organisation(decision: Decision) -> Organisation | None:
    return db.session.get(Organisation, decision.organisation_id)


def _practitioner(decision: Decision) -> tuple[str, str]:
    user = db.session.get(User, decision.practitioner_id)
    if user is None:
        return "Unknown", ""
    role = ", ".join(part for part in (user.job_title, user.role_label) if part)
    return user.display_name, role


def _team_name(decision: Decision) -> str:
    team = db.session.get(Team, decision.team_id) if decision.team_id is not None else None
    return team.name if team else "No team"


def _reasons(decision: Decision) -> str:
    if _disposed(decision):
        return crypto.DISPOSED_TEXT
    reasons = _sharing(decision).get("reasons")
    if reasons in (None, ""):
        return "No reasons recorded"
    return str(reasons)


def build_record(decision: Decision, viewer: Any, *, action: str = "Viewed",
                 rendered_at: dt.datetime | None = None) -> Record:
    """Assemble a Record from the stored decision (see module docstring)."""
    from decision_aid import clock

    org = _organisation(decision)
    name, role = _practitioner(decision)
    result = decision.result or {}
    code, detail = verification(decision)
    return Record(
        decision=decision,
        organisation_name=org.name if org else "",
        marking=(org.protective_marking if org else "") or "OFFICIAL-SENSITIVE",
        practitioner_name=name,
        practitioner_role=role,
        team_name=_team_name(decision),
        decided_at=decision.submitted_at,
        as_at=decision.as_at,
        recommendation=labels.label(labels.RECOMMENDATIONS, decision.recommendation),
        outcome=labels.label(labels.OUTCOMES, decision.outcome),
        departed=bool(decision.departed_from_recommendation),
        reasons=_reasons(decision),
        emergency_rows=emergency_rows(decision),
        questions=questions_and_answers(decision),
        organisation_facts=organisation_facts(decision),
        conclusion_lists=conclusion_lists(decision),
        choices=choices(decision),
        sharing_rows=sharing_rows(decision),
        telling_rows=telling_rows(decision),
        advice=advice_text(decision),
        requirements=[_requirement_text(str(item)) for item in result.get("requirements", [])],
        missing_facts=[_fact_description(str(item)) for item in result.get("missing_facts", [])],
        reviews=(reviews := review_summary(decision)),
        review_status=review_status(decision, reviews),
        ruleset_version=decision.ruleset_version,
        ruleset_digest=decision.ruleset_digest,
        verification_code=code,
        verification_detail=detail,
        viewer_name=str(getattr(viewer, "display_name", "Unknown")),
        viewer_role=str(getattr(viewer, "role_label", "")),
        rendered_at=rendered_at or clock.now(),
        action=action,
        related=related_rows(decision),
    )


def is_shared(decision: Decision) -> bool:
    """True when information was (or, in an emergency, is being) shared."""
    return bool(decision.shared) or decision.outcome in SHARED_OUTCOMES


def pdf_filename(decision: Decision, kind: str = "") -> str:
    """Server-chosen download name (RFC 6266): the reference only, never user-supplied text."""
    safe = re.sub(r"[^A-Z0-9-]", "", decision.reference.upper()) or "record"
    return f"{safe}{'-' + kind if kind else ''}.pdf"
