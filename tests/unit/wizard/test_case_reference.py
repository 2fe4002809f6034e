"""Case references must be pseudonymous: names, dates, NHS numbers and postcodes are refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from decision_aid.models.organisation import DEFAULT_CASE_REF_PATTERN
from decision_aid.wizard.case_reference import case_reference_problem, nhs_number_valid

EXAMPLE = "CASE-12345"


def problem(value: str) -> str | None:
    return case_reference_problem(value, DEFAULT_CASE_REF_PATTERN, EXAMPLE)


@st.composite
def nhs_numbers(draw: st.DrawFn) -> str:
    """Ten digits whose last is a valid mod-11 check digit."""
    while True:
        first = draw(st.lists(st.integers(0, 9), min_size=9, max_size=9))
        check = 11 - sum(d * (10 - i) for i, d in enumerate(first)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            return "".join(map(str, first)) + str(check)


@given(nhs_numbers(), st.sampled_from(["{}", "{0:.3} {1:.3} {2}", "CASE-{}"]))
def test_real_looking_nhs_numbers_are_refused(number: str, layout: str) -> None:
    value = (f"{number[:3]} {number[3:6]} {number[6:]}" if " " in layout
             else layout.format(number))
    assert nhs_number_valid(number)
    assert problem(value) is not None


POSTCODE = st.builds(
    lambda area, district, sector, unit, space: f"{area}{district}{' ' if space else ''}{sector}{unit}",
    st.sampled_from(["SW", "M", "B", "EC", "LS", "N", "CF", "G", "EH", "BT"]),
    st.integers(1, 20).map(str), st.integers(0, 9).map(str),
    st.text(alphabet="ABDEFGHJLNPQRSTUWXYZ", min_size=2, max_size=2), st.booleans())


@given(POSTCODE, st.booleans())
def test_real_looking_postcodes_are_refused(postcode: str, lower: bool) -> None:
    assert problem(postcode.lower() if lower else postcode) is not None


@pytest.mark.parametrize("value", ["Jane Smith", "jane smith", "Mary-Ann O'Neill", "Ref Jane Smith 1",
                                   "01/02/2015", "2015-02-01", "CASE-1.2.15", "CASE-12MAR2015",
                                   "943 476 5919", "9434765919", "SW1A 1AA", "CASE-SW1A1AA"])
def test_identifying_values_are_refused(value: str) -> None:
    assert problem(value) is not None


@pytest.mark.parametrize("value", ["CASE-12345", "CH-0042-7", "AB12345", "CASE-2026-001"])
def test_ordinary_references_are_accepted(value: str) -> None:
    assert problem(value) is None


def test_a_broken_organisation_pattern_refuses_rather_than_crashes() -> None:
    assert case_reference_problem("CASE-12345", "([", EXAMPLE) is not None
