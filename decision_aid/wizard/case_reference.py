"""Checks that a case reference is pseudonymous before the tool stores it.

The tool must never hold identifiers of the children, adults or families concerned
(architecture.md, "Data the tool itself keeps"). The organisation's pattern is the first line
of defence; these heuristics catch the common slips a permissive pattern would let through:
a name typed instead of a reference, a date of birth, an NHS number or a postcode.
"""

from __future__ import annotations

import re

MAX_LENGTH = 40

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z'’.-]*(?:\s+[A-Za-z][A-Za-z'’.-]*)+$")
_CAPITALISED_WORDS_RE = re.compile(r"\b[A-Z][a-z'’]+(?:[\s-]+[A-Z][a-z'’]+)+\b")
_DATE_RES = (
    re.compile(r"(?<!\d)\d{1,2}[/.\-\s]\d{1,2}[/.\-\s](?:\d{4}|\d{2})(?!\d)"),
    re.compile(r"(?<!\d)\d{4}[/.\-\s]\d{1,2}[/.\-\s]\d{1,2}(?!\d)"),
    re.compile(r"(?<!\d)(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])(?:19|20)\d{2}(?!\d)"),
    re.compile(r"(?<!\d)(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)"),
    re.compile(r"\d{1,2}\s*(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*", re.I),
)
_POSTCODE_RE = re.compile(
    r"(?<![A-Z0-9])(?:GIR\s?0AA|[A-PR-UWYZ](?:[0-9][0-9A-HJKMNPR-Y]?|[A-HK-Y][0-9][0-9ABEHMNPRV-Y]?)"
    r"\s?[0-9][ABD-HJLNP-UW-Z]{2})(?![A-Z0-9])",
    re.I,
)
_DIGITS_RE = re.compile(r"\d(?:[\s-]?\d){9}")


def nhs_number_valid(digits: str) -> bool:
    """True for 10 digits whose last is the NHS mod-11 check digit of the first nine."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * (10 - i) for i, d in enumerate(digits[:9]))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def contains_nhs_number(value: str) -> bool:
    """Any run of ten digits (spaces or hyphens allowed between them) with a valid check digit."""
    for start in range(len(value)):
        match = _DIGITS_RE.match(value, start)
        if match and nhs_number_valid(re.sub(r"\D", "", match.group())):
            return True
    return False


def looks_like_name(value: str) -> bool:
    """Letters-only words separated by spaces, or two or more capitalised words in a row."""
    return bool(_NAME_RE.match(value.strip()) or _CAPITALISED_WORDS_RE.search(value))


def looks_like_date(value: str) -> bool:
    """Common written forms of a date (a date of birth identifies a person)."""
    return any(pattern.search(value) for pattern in _DATE_RES)


def looks_like_postcode(value: str) -> bool:
    """A UK postcode anywhere in the value, with or without its space."""
    return bool(_POSTCODE_RE.search(value))


def case_reference_problem(value: str, pattern: str, example: str) -> str | None:
    """The GOV.UK-style error message for a refused case reference, or None when it is fine."""
    value = value.strip()
    if not value:
        return "Enter a case reference"
    if len(value) > MAX_LENGTH:
        return f"Case reference must be {MAX_LENGTH} characters or fewer"
    checks = ((looks_like_name, "a name"), (contains_nhs_number, "an NHS number"),
              (looks_like_date, "a date"), (looks_like_postcode, "a postcode"))
    for check, what in checks:
        if check(value):
            return f"Case reference must not contain {what}: enter your case reference, like {example}"
    if not _matches(pattern, value):
        return "Enter a case reference in the correct format, like " + example
    return None


def _matches(pattern: str, value: str) -> bool:
    """The organisation's pattern; a broken pattern (admin typo) refuses rather than crashes."""
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return False
