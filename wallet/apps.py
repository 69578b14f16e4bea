from django.apps import AppConfig


class WalletConfig(AppConfig):
    name = "wallet"
    verbose_name = "Wallet and ledger"

    def ready(self):
        # Celery autodiscovers `tasks.py` only; the reconciliation job lives in its own module.
        # guardians cannot import wallet (dependency direction), so it announces leavers by signal.
        from guardians.signals import student_left
        from wallet import (
            reconciliation_tasks,  # noqa: F401
            webhook_events,  # noqa: F401 - registers the app's webhook event types
        )
        from wallet.leavers import leaver_card_close

        student_left.connect(leaver_card_close, dispatch_uid="wallet_leaver_card_close")
