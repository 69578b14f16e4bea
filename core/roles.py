"""Which roles a user holds (guardian, staff member, program administrator), asked in one way.

A role is a one-to-one row beside the user. Asking `user.guardian` of a user who is not a guardian
costs a query each time it is asked, and the relation cannot record "none" through a public API. The
session probe of every signed-in request (guardians/queries.py) already reads all the roles with the
user; it records what it found with `roles_known`, and `role_of` answers from that record. A user
loaded any other way (a task, the admin) is asked through the relation, as before.
"""

KNOWN_ROLES_ATTRIBUTE = "known_roles"


def roles_known(user, **roles) -> None:
    """Record the roles read with the user: each name to its row, or None when the user does not hold it."""
    setattr(user, KNOWN_ROLES_ATTRIBUTE, roles)


def role_of(user, name: str):
    """The user's `name` role row (`guardian`, `staff`, `program_admin`), or None."""
    if user is None:
        return None
    known = getattr(user, KNOWN_ROLES_ATTRIBUTE, None)
    if known is not None and name in known:
        return known[name]
    return getattr(user, name, None)
