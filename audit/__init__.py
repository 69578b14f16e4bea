"""The audit log: who among staff, administrators and terminals changed what, when and from where.

The public entry point is `audit.services.audit_record`; this app imports no domain app, so
every app (guardians included) may call it.
"""
