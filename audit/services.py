"""`audit_record`: the one way a row enters the audit log.

Call it from the service that makes the change, inside the same transaction, with the changed
fields' values before and after (`changed_fields` computes them): the row then commits or rolls back
with the change itself.
"""

from audit import context
from audit.actors import SYSTEM, Actor, actor_for_terminal, actor_for_user
from audit.models import AuditEntry, Capture
from audit.redaction import redacted


def audit_record(
    *,
    action: str,
    object_type: str,
    object_id: int | str | None = "",
    school_id: int | None = None,
    program_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    details: dict | None = None,
    actor=None,
    terminal=None,
    capture: str = Capture.SERVICE,
) -> AuditEntry | None:
    """Append one row. The actor is `terminal`, else `actor` (a user or an `Actor`), else whoever the current
    request authenticated, else the system (a task, a command). Returns None, writing nothing,
    when the actor is a guardian acting for their own family: not an audit event.

    Invariants: values are redacted before they are stored; `school_id` defaults to the acting
    staff member's (or terminal's merchant's) school, so the row shows in that school's log.
    """
    who = _resolve_actor(actor=actor, terminal=terminal)
    if who is None:
        return None
    request = context.current()
    entry = AuditEntry.objects.create(
        actor_kind=who.kind,
        actor_user_id=who.user_id,
        actor_roles=list(who.roles),
        actor_terminal_id=who.terminal_id,
        actor_merchant_id=who.merchant_id,
        action=action,
        object_type=object_type,
        object_id="" if object_id is None else str(object_id),
        school_id=school_id if school_id is not None else who.school_id,
        program_id=program_id,
        before=redacted(before),
        after=redacted(after),
        details=redacted(details),
        request_id=request.request_id if request else "",
        ip_address=request.ip_address if request else None,
        user_agent=request.user_agent if request else "",
        capture=capture,
    )
    if request is not None:
        request.recorded += 1
    return entry


def changed_fields(before: dict, after: dict) -> tuple[dict, dict]:
    """The fields whose values differ, as (their values before, their values after)."""
    names = [name for name in {**before, **after} if before.get(name) != after.get(name)]
    return {name: before.get(name) for name in names}, {name: after.get(name) for name in names}


def snapshot(instance, fields) -> dict:
    return {name: getattr(instance, name) for name in fields}


def _resolve_actor(*, actor, terminal) -> Actor | None:
    if terminal is not None:
        return actor_for_terminal(terminal)
    if isinstance(actor, Actor):
        return actor
    if actor is not None:
        return actor_for_user(actor)
    request = context.current()
    if request is not None and getattr(request.principal, "is_authenticated", False):
        return actor_for_user(request.principal)
    return SYSTEM
