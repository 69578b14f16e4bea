from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self):
        # Django admin writes a LogEntry for each addition, change and deletion; its receivers turn
        # those into audit rows with the values before and after.
        from audit import admin_log

        admin_log.connect()
