from django.apps import AppConfig


class VouchersConfig(AppConfig):
    name = "vouchers"
    verbose_name = "Activity vouchers"

    def ready(self):
        from vouchers import webhook_events  # noqa: F401 - registers the app's webhook event types
