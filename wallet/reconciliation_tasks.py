"""The nightly reconciliation job. Registered by WalletConfig.ready(): Celery autodiscovers only `tasks.py`."""

from celery import shared_task

from wallet.reconciliation import reconciliation_run


@shared_task(name="wallet.reconciliation_tasks.reconcile_ledger")
def reconcile_ledger() -> dict:
    """Safe to run twice: an open identical issue is not recorded again."""
    summary = reconciliation_run()
    return {
        "checked_transactions": summary.checked_transactions,
        "checked_accounts": summary.checked_accounts,
        "issues_found": summary.issues_found,
        "new_issues": summary.new_issues,
        "ok": summary.ok,
    }
