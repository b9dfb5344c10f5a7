"""Who may do what: the one place that decides.

Routes call :func:`require` before acting and use the query helpers here to
list only what the user may see. A forbidden action raises ``HTTPException``
(403), which the app renders as a page in the user's language.
"""

from __future__ import annotations

from typing import Literal

from starlette.exceptions import HTTPException

from proposals.models import Organisation, User

OrganisationAction = Literal["view", "see_members", "edit", "invite", "manage_members"]


def organisation_role(user: User | None, organisation: Organisation) -> str | None:
    if user is None:
        return None
    for membership in user.memberships:
        if membership.organisation_id == organisation.id:
            return membership.role
    return None


def can(user: User | None, action: str, target: object) -> bool:
    """True when ``user`` may do ``action`` on ``target``."""
    if user is None:
        return False
    if action == "admin":
        return user.is_admin
    if isinstance(target, Organisation):
        role = organisation_role(user, target)
        if action == "view":
            return True
        if action == "see_members":
            return role is not None or user.is_admin
        if action in ("edit", "invite", "manage_members"):
            return role == "admin" or user.is_admin
    return False


def require(user: User | None, action: str, target: object) -> None:
    """Refuse with 403 unless ``user`` may do ``action`` on ``target``."""
    if not can(user, action, target):
        raise HTTPException(status_code=403)
