"""The practitioner's possible decisions, the information categories, and what counts as departing.

Kept apart from the forms so that the service, the forms and other areas (records, review)
share one vocabulary.
"""

from __future__ import annotations

from typing import Any

OUTCOME_LABELS: dict[str, str] = {
    "share_all": "Share all the information proposed",
    "share_part": "Share part of it",
    "do_not_share": "Do not share",
    "wait_for_advice": "Wait for advice before deciding",
}
EMERGENCY_OUTCOME = "share_now"
SHARING_OUTCOMES = frozenset({"share_all", "share_part", EMERGENCY_OUTCOME})

# Which decisions follow each recommendation; any other decision departs from it.
FOLLOWS: dict[str, frozenset[str]] = {
    "share_urgently": frozenset({"share_all", "share_part", EMERGENCY_OUTCOME}),
    "duty_to_share": frozenset({"share_all", "share_part"}),
    "lawful_to_share": frozenset({"share_all", "share_part"}),
    "do_not_share": frozenset({"do_not_share"}),
    "seek_advice": frozenset({"wait_for_advice"}),
}

RECOMMENDATION_TEXT: dict[str, str] = {
    "share_urgently": "Share what is needed now, then complete the full record",
    "duty_to_share": "You have a duty to share this information",
    "lawful_to_share": "You can lawfully share this information",
    "do_not_share": "Do not share this information",
    "seek_advice": "Get advice before you decide",
}

# id: (label, special category data, criminal offence data)
CATEGORIES: dict[str, tuple[str, bool, bool]] = {
    "contact_details": ("Contact details and who lives in the household", False, False),
    "concern": ("What the concern is and what has happened", False, False),
    "education": ("Education, attendance or exclusions", False, False),
    "social_care": ("Social care involvement and support", False, False),
    "health": ("Physical or mental health", True, False),
    "sex_life": ("Sex life or sexual orientation", True, False),
    "ethnicity_religion": ("Racial or ethnic origin, religious or philosophical beliefs", True, False),
    "offences": ("Offences, allegations of offences or police involvement", False, True),
    "other": ("Other information", False, False),
}

METHOD_LABELS: dict[str, str] = {
    "secure_email": "Secure email",
    "phone": "Telephone",
    "meeting": "In a meeting",
    "secure_portal": "Secure portal or case system",
    "letter": "Letter or report",
    "other": "Another way",
}


def departs(recommendation: str, outcome: str) -> bool:
    """True when the practitioner's decision is not one the recommendation points to."""
    return outcome not in FOLLOWS.get(recommendation, frozenset())


def category_records(ids: list[str]) -> list[dict[str, Any]]:
    """Chosen categories with their flags, as stored in Decision.sharing."""
    return [{"id": cid, "label": CATEGORIES[cid][0], "special_category": CATEGORIES[cid][1],
             "criminal_offence": CATEGORIES[cid][2]} for cid in ids if cid in CATEGORIES]
