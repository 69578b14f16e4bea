"""Who acted, read from the principal the request authenticated (or the one a service names).

Duck-typed on purpose: this app imports no domain app. A user is school staff if they have a
`staff` profile, a program administrator if they have `program_admin`, platform staff if they
may use the Django admin (`is_staff`); a terminal principal says `is_terminal`. Guardians are
none of these: their own actions are not audit events (they have their statements and feeds).
"""

from dataclasses import dataclass, field

from audit.models import ActorKind
from core import roles


@dataclass(frozen=True)
class Actor:
    kind: str
    user_id: int | None = None
    roles: list[str] = field(default_factory=list)
    terminal_id: int | None = None
    merchant_id: int | None = None
    school_id: int | None = None


SYSTEM = Actor(kind=ActorKind.SYSTEM)


def actor_for_user(user) -> Actor | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if getattr(user, "is_terminal", False):
        return actor_for_terminal(user.terminal)
    staff = roles.role_of(user, "staff")
    if staff is not None:
        return Actor(kind=ActorKind.SCHOOL_STAFF, user_id=user.pk, roles=sorted(staff.roles), school_id=staff.school_id)
    if roles.role_of(user, "program_admin") is not None:
        return Actor(kind=ActorKind.PROGRAM_ADMIN, user_id=user.pk, roles=["program_admin"])
    if getattr(user, "is_staff", False):
        return platform_actor(user)
    return None


def actor_for_merchant_admin(admin) -> Actor:
    """A merchant administrator acting on their merchant: named by the services that serve them, so
    that telling who is one costs no query on every other person's request."""
    return Actor(
        kind=ActorKind.MERCHANT_ADMIN,
        user_id=admin.user_id,
        roles=["merchant_admin"],
        merchant_id=admin.merchant_id,
        school_id=getattr(admin.merchant, "school_id", None),
    )


def platform_actor(user) -> Actor:
    roles = ["superuser"] if getattr(user, "is_superuser", False) else ["staff"]
    return Actor(kind=ActorKind.PLATFORM_STAFF, user_id=user.pk, roles=roles)


def actor_for_terminal(terminal) -> Actor:
    merchant = terminal.merchant
    return Actor(
        kind=ActorKind.TERMINAL,
        terminal_id=terminal.pk,
        merchant_id=terminal.merchant_id,
        school_id=getattr(merchant, "school_id", None),
    )
