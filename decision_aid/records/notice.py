"""The recipient notice: a one-page cover note that travels with what was shared.

The receiving agency needs to know why it got the information, on what lawful basis, how to
handle it, whether it may pass it on, how long to keep it and whom to ask: the ICO data sharing
code's expectations of a one-off disclosure. Like the record, it is built from the stored
decision only.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from decision_aid.models.decision import Decision
from decision_aid.records import labels
from decision_aid.records.service import (
    Conclusion,
    Row,
    conclusion_lists,
    format_when,
    is_shared,
)

PURPOSES: dict[str, str] = {
    "protect_from_harm_or_neglect": "To protect a child or an adult at risk from harm or neglect",
    "protect_wellbeing": "To protect the well-being of a child or an adult at risk",
    "protect_economic_wellbeing": "To protect the economic well-being of an adult at risk",
    "prevent_or_detect_crime": "To prevent or detect crime",
    "other": "Another purpose: see the sender's record",
}


@dataclass
class Notice:
    """Everything the recipient notice templates need."""

    decision: Decision
    organisation_name: str
    marking: str
    shared: bool
    purpose: str
    bases: list[Conclusion]
    conditions: list[Conclusion]
    details: list[Row]
    handling: list[str]
    retention: str
    contacts: list[Row]
    viewer_name: str
    viewer_role: str
    rendered_at: dt.datetime
    action: str

    @property
    def title(self) -> str:
        """Document title and PDF title metadata."""
        return f"Recipient notice for {self.decision.reference}"

    @property
    def footer(self) -> str:
        """Viewer and time on every page, as on the record."""
        return (f"{self.action} by {self.viewer_name} ({self.viewer_role}) on "
                f"{self.rendered_at:%d %B %Y at %H:%M} UTC")


def _handling(decision: Decision, marking: str) -> list[str]:
    result = decision.result or {}
    items = [
        f"Handle as {marking}: store it securely and let only people who need it for this "
        "purpose see it.",
        "Use it only for the purpose above (UK GDPR Article 5(1)(b)).",
        "Do not pass it on without contacting us first, unless the law requires you to or "
        "someone faces an immediate risk of serious harm; if you do, record who, what and why.",
        "Tell us at once if it is lost, sent to the wrong place or seen by someone who should "
        "not have seen it.",
    ]
    if result.get("transparency", "").startswith("withhold"):
        items.insert(1, "The person has NOT been told about this sharing, to avoid increasing "
                        "the risk or prejudicing an investigation: do not tell them, or anyone "
                        "who may tell them, without speaking to us first.")
    if result.get("special_category_conditions") or result.get("criminal_offence_conditions"):
        items.append("It includes special category or criminal offence information: you need "
                     "your own condition for processing it (UK GDPR Articles 9 and 10).")
    return items


def _contacts(decision: Decision, org: Any, practitioner: Any) -> list[Row]:
    rows = []
    if practitioner is not None:
        role = ", ".join(p for p in (practitioner.job_title, practitioner.role_label) if p)
        rows.append(Row("Sender", f"{practitioner.display_name}, {role}, "
                                  f"{org.name if org else ''}".rstrip(", ")))
    for contact in (getattr(org, "advice_contacts", None) or []):
        if isinstance(contact, dict):
            name = contact.get("name") or contact.get("role") or "Contact"
            how = ", ".join(str(contact[k]) for k in ("role", "email", "phone")
                            if contact.get(k) and contact.get(k) != name)
            rows.append(Row(str(name), how or "See organisation directory"))
    rows.append(Row("Quote this reference", decision.reference))
    return rows


def build_notice(decision: Decision, viewer: Any, *, action: str = "Viewed",
                 rendered_at: dt.datetime | None = None) -> Notice:
    """Assemble the notice from the stored decision."""
    from decision_aid import clock
    from decision_aid.extensions import db
    from decision_aid.models import Organisation, User

    org = db.session.get(Organisation, decision.organisation_id)
    practitioner = db.session.get(User, decision.practitioner_id)
    marking = (org.protective_marking if org else "") or "OFFICIAL-SENSITIVE"
    lists = dict(conclusion_lists(decision))
    sharing = dict(decision.sharing or {})
    years = getattr(org, "decision_retention_years", None)
    return Notice(
        decision=decision,
        organisation_name=org.name if org else "",
        marking=marking,
        shared=is_shared(decision),
        purpose=labels.label(PURPOSES, (decision.facts or {}).get("purpose")),
        bases=lists.get(labels.LIST_TITLES["lawful_bases"], []),
        conditions=[item for key in ("special_category_conditions", "criminal_offence_conditions",
                                     "part3_conditions", "duties")
                    for item in lists.get(labels.LIST_TITLES[key], [])],
        details=[
            Row("From", org.name if org else ""),
            Row("To", f"{labels.humanise(sharing.get('recipient_role'))}, "
                      f"{labels.humanise(sharing.get('recipient_org'))}"),
            Row("Case reference", decision.case_ref),
            Row("Decision reference", decision.reference),
            Row("Shared on", format_when(sharing.get("shared_at"))),
            Row("What was shared",
                labels.humanise(sharing.get("description") or sharing.get("what"))),
            Row("Categories", labels.humanise(sharing.get("categories"))),
        ],
        handling=_handling(decision, marking),
        retention=("Keep it only as long as you need it for this purpose, under your own "
                   "retention schedule, then destroy it securely."
                   + (f" We keep our record of this decision for {years} years." if years else "")),
        contacts=_contacts(decision, org, practitioner),
        viewer_name=str(getattr(viewer, "display_name", "Unknown")),
        viewer_role=str(getattr(viewer, "role_label", "")),
        rendered_at=rendered_at or clock.now(),
        action=action,
    )
