"""Voucher jobs: thin, take ids, safe to run twice."""

from celery import shared_task

from vouchers import issuing, reminders, reserves, settlement


@shared_task(name="vouchers.tasks.bulk_issue_run")
def bulk_issue_run(job_id: int) -> dict:
    job = issuing.bulk_issue_run(job_id=job_id)
    return {"status": job.status, "processed_rows": job.processed_rows, "issued_vouchers": job.issued_vouchers}


@shared_task(name="vouchers.tasks.settle_vouchers_daily")
def settle_vouchers_daily() -> list[int]:
    """Settle yesterday's redemptions (school-system local day) and pay what is unpaid."""
    return [created.pk for created in settlement.settle_all()]


@shared_task(name="vouchers.tasks.send_expiry_reminders")
def send_expiry_reminders() -> int:
    return reminders.expiry_reminders_send()


@shared_task(name="vouchers.tasks.release_voucher_reserve")
def release_voucher_reserve(voucher_id: int) -> None:
    reserves.voucher_reserve_release(voucher_id=voucher_id)


@shared_task(name="vouchers.tasks.release_voucher_reserves_due")
def release_voucher_reserves_due() -> int:
    """Return to their programs the reserves of vouchers that expired or can no longer be spent."""
    return reserves.reserves_release_due()
@shared_task(name="vouchers.tasks.settlement_run_pay")
def settlement_run_pay(run_id: int) -> list[str]:
    """Transfer a run's settlements after the run commits (at least once: paying twice is refused by state)."""
    run = settlement.settlement_run_pay(run_id=run_id)
    return list(run.settlements.order_by("pk").values_list("status", flat=True))
