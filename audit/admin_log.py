"""Django admin actions in the audit log.

The admin writes a LogEntry for each addition, change and deletion (deletions before the row
goes). A `pre_save` receiver, active only while the admin site serves the request, keeps each
row as it was before the admin saved it; the LogEntry receiver then records the fields that
changed, before and after, redacted like every row (a user's password hash never shows).
"""

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.db.models.signals import post_save, pre_save

from audit import context
from audit.actors import platform_actor
from audit.models import AuditEntry, Capture

ACTIONS = {ADDITION: "admin.add", CHANGE: "admin.change", DELETION: "admin.delete"}
_NOT_SNAPSHOTTED = (LogEntry, AuditEntry)


def connect() -> None:
    pre_save.connect(_keep_row_before_admin_save, dispatch_uid="audit_admin_before")
    post_save.connect(_record_log_entry, sender=LogEntry, dispatch_uid="audit_admin_log_entry")


def _row(model, pk) -> dict | None:
    return model._default_manager.filter(pk=pk).values().first()


def _keep_row_before_admin_save(sender, instance, raw=False, **kwargs):
    request = context.current()
    if raw or request is None or not request.is_admin_site or instance.pk is None or isinstance(instance, _NOT_SNAPSHOTTED):
        return
    key = (sender._meta.label_lower, str(instance.pk))
    request.admin_before.setdefault(key, _row(sender, instance.pk) or {})


def _record_log_entry(sender, instance: LogEntry, created, raw=False, **kwargs):
    if not created or raw:
        return
    from audit.services import audit_record, changed_fields

    model = instance.content_type.model_class() if instance.content_type_id else None
    label = model._meta.label_lower if model else ""
    request = context.current()
    kept = request.admin_before.pop((label, str(instance.object_id)), {}) if request else {}
    now = _row(model, instance.object_id) if model else None
    before, after = {}, {}
    if instance.action_flag == ADDITION:
        after = now or {}
    elif instance.action_flag == CHANGE:
        before, after = changed_fields(kept, now or {})
    elif instance.action_flag == DELETION:
        before = now or kept
    row = now or kept
    audit_record(
        action=ACTIONS.get(instance.action_flag, "admin.other"),
        object_type=label,
        object_id=instance.object_id,
        school_id=row.get("school_id") if "school_id" in row else (row.get("id") if label == "guardians.school" else None),
        program_id=row.get("program_id"),
        before=before,
        after=after,
        details={"change_message": instance.get_change_message(), "object_repr": instance.object_repr},
        actor=platform_actor(instance.user),  # the Django admin is the platform's, whatever roles the user also holds
        capture=Capture.ADMIN,
    )

