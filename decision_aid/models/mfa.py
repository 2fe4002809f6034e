"""Second-factor credentials: one TOTP secret per user (encrypted at rest) and recovery codes.

The TOTP secret is stored AES-GCM encrypted (see decision_aid.auth.mfa), so a copy of the
database alone does not let anyone generate codes. Recovery codes are stored only as hashes.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from decision_aid.models.base import Base, UTCDateTime


class MfaCredential(Base):
    """A user's authenticator-app secret. `enrolled_at` is None while enrolment is unconfirmed."""

    __tablename__ = "mfa_credential"

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("app_user.id"), primary_key=True)
    secret_ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # The last accepted 30-second time-step: a code for this step or an earlier one is refused,
    # which makes every code single-use even within its validity window.
    last_used_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    recovery_salt: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    enrolled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)


class RecoveryCode(Base):
    """One single-use recovery code, stored as a salted SHA-256 hash (see auth.mfa for why)."""

    __tablename__ = "recovery_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("app_user.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
