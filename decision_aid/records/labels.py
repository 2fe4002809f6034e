"""Plain-English labels for the fixed ids of the decision model (spec/decision-model.md).

The ids are a contract and never change; their wording on a printed record can. Anything not
listed falls back to a readable form of the id, so a new id never breaks a record.
"""

from __future__ import annotations

from typing import Any

RECOMMENDATIONS: dict[str, str] = {
    "share_urgently": "Share urgently: share what is needed now, complete the record after",
    "do_not_share": "Do not share",
    "seek_advice": "Seek advice before deciding",
    "duty_to_share": "Duty to share: the law requires disclosure",
    "lawful_to_share": "Lawful to share",
}

OUTCOMES: dict[str, str] = {
    "share_all": "Share the information",
    "share_part": "Share part of the information",
    "do_not_share": "Do not share",
    "wait_for_advice": "Wait for advice before deciding",
    "share_now": "Share now (emergency): record to be completed after",
}

CHOICES: dict[str, dict[str, str]] = {
    "regime": {
        "uk_gdpr": "UK GDPR and DPA 2018 Part 2 (general processing)",
        "dpa_part3": "DPA 2018 Part 3 (law enforcement processing)",
    },
    "confidentiality_route": {
        "not_applicable": "Not applicable: the information was not held in confidence",
        "consent": "Consent",
        "legal_requirement": "A legal requirement to disclose",
        "overriding_public_interest": "An overriding public interest",
        "unresolved": "Unresolved",
    },
    "transparency": {
        "inform": "Tell the person",
        "withhold_risk_of_harm":
            "Do not tell the person: telling them would increase the risk of harm",
        "withhold_crime_exemption":
            "Do not tell the person: it would prejudice the prevention or detection of crime",
        "inform_when_practicable": "Tell the person when it becomes practicable",
    },
    "purpose_compatibility": {
        "not_applicable": "Not applicable",
        "same_purpose": "The same purpose as the information was collected for",
        "annex2_condition": "A compatible purpose under UK GDPR Annex 2",
        "compatible_by_law": "Compatible: the new use rests on a legal function",
        "compatibility_assessment_needed": "A compatibility assessment is needed",
    },
    "human_rights": {
        "not_applicable": "Not applicable (not a public authority)",
        "proportionate": "Sharing is a proportionate interference with private life",
        "unresolved": "Unresolved",
    },
}

CHOICE_TITLES: dict[str, str] = {
    "regime": "Data protection regime",
    "confidentiality_route": "Duty of confidence",
    "transparency": "Telling the person",
    "purpose_compatibility": "Purpose compatibility",
    "human_rights": "Human rights (Article 8)",
}

LIST_TITLES: dict[str, str] = {
    "lawful_bases": "Lawful basis",
    "special_category_conditions": "Special category conditions",
    "criminal_offence_conditions": "Criminal offence data conditions",
    "part3_conditions": "Part 3 sensitive processing conditions",
    "duties": "Duties to share",
}

SHARING_METHODS: dict[str, str] = {
    "secure_email": "Secure email",
    "phone": "Telephone",
    "meeting": "In a meeting",
    "secure_portal": "Secure portal or case system",
    "letter": "Letter or report",
    "other": "Another way",
}


def sharing_methods() -> dict[str, str]:
    """The wizard's method wording when the wizard is installed (one vocabulary), else ours."""
    try:
        from decision_aid.wizard.outcomes import METHOD_LABELS
    except ImportError:
        return SHARING_METHODS
    return {**SHARING_METHODS, **METHOD_LABELS}


def humanise(value: Any) -> str:
    """A readable form of an id or a stored value ('record_decision' -> 'Record decision')."""
    if value is None or value == "":
        return "Not recorded"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, (list, tuple)):
        return "; ".join(humanise(item) for item in value) or "Not recorded"
    if isinstance(value, dict):
        return _describe(value)
    text = str(value)
    if text.replace("_", "").isalnum() and "_" in text:
        text = text.replace("_", " ")
        return text[:1].upper() + text[1:]
    return text


def _describe(item: dict[str, Any]) -> str:
    """A stored object as text: a category's label, or a person's name and role."""
    if item.get("label"):
        return str(item["label"])
    name, role = item.get("name"), item.get("role")
    if name:
        return f"{name} ({role})" if role else str(name)
    return ", ".join(str(v) for v in item.values()
                     if v not in (None, "") and not isinstance(v, bool)) or "Not recorded"


def label(table: dict[str, str], value: Any) -> str:
    """Look a value up in a label table, falling back to `humanise`."""
    return table.get(str(value), humanise(value)) if value is not None else "Not recorded"
