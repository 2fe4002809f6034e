"""Staff accounts. Staff are named; the people a decision is about never are."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import Boolean, Column, ForeignKey, String, Table, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from decision_aid.models.base import Base, UTCDateTime, new_uuid
from decision_aid.models.organisation import Team


class Role(enum.StrEnum):
    """What a user may do (architecture.md, 'Roles and what each may see')."""

    PRACTITIONER = "practitioner"
    SUPERVISOR = "supervisor"
    DPO = "dpo"
    ADMIN = "admin"


team_membership = Table(
    "team_membership",
    Base.metadata,
    Column("user_id", ForeignKey("app_user.id"), primary_key=True),
    Column("team_id", ForeignKey("team.id"), primary_key=True),
)


class User(Base):
    """A member of staff. Flask-Login reads `get_id`, `is_active`, `is_authenticated`."""

    __tablename__ = "app_user"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_uuid)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    job_title: Mapped[str] = mapped_column(String(120), default="")
    role: Mapped[str] = mapped_column(String(20), default=Role.PRACTITIONER.value)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)

    teams: Mapped[list[Team]] = relationship(secondary=team_membership, order_by="Team.name")

    # Flask-Login protocol -------------------------------------------------------------
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        """A disabled account cannot sign in and its sessions end."""
        return self.active

    def get_id(self) -> str:
        """Flask-Login's user id, stored only in the server-side session row."""
        return str(self.id)

    def has_role(self, *roles: Role) -> bool:
        """True when the user holds one of the given roles."""
        return self.role in {r.value for r in roles}

    @property
    def role_label(self) -> str:
        """The role as shown on screen."""
        return {"dpo": "Data protection officer"}.get(self.role, self.role.capitalize())
