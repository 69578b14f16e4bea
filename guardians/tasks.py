from celery import shared_task

from guardians.leavers import leavers_process_due
from guardians.retention import leavers_deidentify_due


@shared_task(name="core.tasks.leavers_sweep")
def leavers_sweep() -> dict[str, int]:
    """Process the leavers whose leaving day has come, then de-identify those past retention. Safe to
    run twice, even at once: both steps re-check each row under its lock."""
    return {"processed": leavers_process_due(), "deidentified": leavers_deidentify_due()}
