"""What this app hears from others (connected in EventsConfig.ready)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from core.jobs import enqueue_after_commit
from wallet.models import TopUp


@receiver(post_save, sender=TopUp, dispatch_uid="events.card_topup_credited")
def card_topup_credited(sender, instance: TopUp, update_fields=None, **kwargs):
    """A top-up that pays an event fee was credited by Stripe's webhook: pay the fee on, after commit."""
    if instance.status != TopUp.Status.SUCCEEDED or (update_fields is not None and "status" not in update_fields):
        return
    from events.models import Signup
    if Signup.objects.filter(card_topup_id=instance.pk).exists():
        enqueue_after_commit("events.tasks.pay_signup_after_topup", instance.pk)
