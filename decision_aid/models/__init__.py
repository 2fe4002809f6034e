"""All models, imported here so Alembic and the app see one metadata."""

from decision_aid.models.base import Base
from decision_aid.models.organisation import ORG_TYPES, Organisation, Team
from decision_aid.models.session import SignInFailure, WebSession
from decision_aid.models.user import Role, User, team_membership

__all__ = [
    "ORG_TYPES",
    "Base",
    "Organisation",
    "Role",
    "SignInFailure",
    "Team",
    "User",
    "WebSession",
    "team_membership",
]
from decision_aid.models.audit import AuditEvent  # noqa: F401
from decision_aid.models.decision import Decision, DecisionReferenceCounter, Draft  # noqa: F401
from decision_aid.models.mfa import MfaCredential, RecoveryCode  # noqa: F401
from decision_aid.models.operations import CaseKey, Complaint, RuleSetSignOff  # noqa: F401
from decision_aid.models.review import Review, ReviewSelection, ReviewState  # noqa: F401
