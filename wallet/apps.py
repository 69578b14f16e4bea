from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = "Wallet and ledger"

    def ready(self):
        # Celery autodiscovers `tasks.py` only; the reconciliation job lives in its own module.
        from wallet import (
            reconciliation_tasks,  # noqa: F401
            webhook_events,  # noqa: F401 - registers the app's webhook event types
        )
