"""The organisation running the tool, and its teams. Settings here feed organisation facts to the engine."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from decision_aid.models.base import Base

ORG_TYPES: tuple[str, ...] = (
    "la_childrens_services", "la_adult_services", "la_housing", "nhs_body", "gp_practice",
    "maintained_school", "academy", "independent_school", "fe_college", "early_years_provider",
    "police", "probation_or_youth_justice", "charity", "private_care_provider",
    "housing_association", "other_private",
)

# A safe default: letters, digits and hyphens, at least one digit, 4-30 characters.
DEFAULT_CASE_REF_PATTERN = r"^[A-Z]{1,6}-?[0-9][A-Z0-9-]{2,23}$"


class Organisation(Base):
    """One organisation per deployment; an admin edits these settings."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    org_type: Mapped[str] = mapped_column(String(40), default="charity")
    is_designated_agency: Mapped[bool] = mapped_column(Boolean, default=False)
    provides_services_for_relevant_person: Mapped[bool] = mapped_column(Boolean, default=False)
    apd_in_place: Mapped[bool] = mapped_column(Boolean, default=False)
    apd_version: Mapped[str] = mapped_column(String(50), default="")
    apd_review_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    case_ref_pattern: Mapped[str] = mapped_column(String(200), default=DEFAULT_CASE_REF_PATTERN)
    case_ref_example: Mapped[str] = mapped_column(String(40), default="CASE-12345")
    protective_marking: Mapped[str] = mapped_column(String(60), default="OFFICIAL-SENSITIVE")
    advice_contacts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    draft_retention_days: Mapped[int] = mapped_column(Integer, default=30)
    decision_retention_years: Mapped[int] = mapped_column(Integer, default=7)
    emergency_completion_hours: Mapped[int] = mapped_column(Integer, default=24)
    s16la_commencement: Mapped[dt.date] = mapped_column(Date, default=dt.date(2026, 9, 30))
    s16la_commencement_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    mfa_required_for_practitioners: Mapped[bool] = mapped_column(Boolean, default=True)

    teams: Mapped[list[Team]] = relationship(back_populates="organisation", order_by="Team.name")

    def engine_facts(self) -> dict[str, Any]:
        """Facts that belong to the organisation, not to a case (never asked in the wizard)."""
        return {
            "org_type": self.org_type,
            "org_has_appropriate_policy_document": self.apd_in_place,
            "org_is_designated_agency": self.is_designated_agency,
            "org_provides_services_for_relevant_person": self.provides_services_for_relevant_person,
        }

    def engine_settings(self) -> dict[str, Any]:
        """Dates the law leaves uncertain, passed to the engine as `settings`."""
        return {"s16la_commencement": self.s16la_commencement.isoformat()}

    def apd_review_overdue(self, today: dt.date) -> bool:
        """True when the appropriate policy document's review date has passed."""
        return self.apd_review_date is not None and self.apd_review_date < today


class Team(Base):
    """A team of practitioners with one or more supervisors."""

    __tablename__ = "team"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    name: Mapped[str] = mapped_column(String(120), unique=True)

    organisation: Mapped[Organisation] = relationship(back_populates="teams")
