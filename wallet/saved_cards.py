"""A guardian removes their saved card: detached at Stripe, forgotten here, automatic top-up switched off.

Stripe is called first and outside any transaction (no row lock is held over the network). If Stripe
cannot be reached, nothing changes and the guardian may retry. If Stripe refuses the detach (the card
is already detached or gone there), the card is still removed here: the point is that Tuckbox never
charges it again, and without its id we cannot.

Automatic top-up needs the card, so removing it switches automatic top-up off and tells the guardian
(notification `auto_topup_disabled`); the threshold and amount are kept for when a new card is saved.
An automatic top-up already queued but not yet sent to Stripe then fails as `auto_topup_disabled`
(wallet/topups.py, `auto_topup_submit`); one Stripe has already accepted completes as usual.
"""

from dataclasses import dataclass

import structlog
from django.db import transaction

from core import clock
from core.locks import lock_one
from core.notifications import notify
from guardians.models import Guardian
from wallet.errors import PaymentGatewayUnavailable, PaymentMethodChanged, PaymentMethodNotFound
from wallet.gateway import GatewayRejected, GatewayUnavailable, get_gateway
from wallet.models import PaymentMethod

log = structlog.get_logger("wallet.saved_cards")


@dataclass(frozen=True)
class CardRemoved:
    brand: str
    last4: str
    auto_topup_disabled: bool


def payment_method_remove(*, guardian: Guardian) -> CardRemoved:
    """Remove the guardian's own saved card. Raises PaymentMethodNotFound when none is saved."""
    method = PaymentMethod.objects.filter(guardian=guardian).first()
    if method is None or not method.has_card:
        raise PaymentMethodNotFound()
    card_id = method.stripe_payment_method_id
    try:
        get_gateway().detach_payment_method(card_id)
    except GatewayUnavailable as exc:
        log.warning("payment_method_detach_unavailable", guardian_id=guardian.pk, error=str(exc))
        raise PaymentGatewayUnavailable() from exc
    except GatewayRejected as exc:
        log.warning("payment_method_detach_refused", guardian_id=guardian.pk, code=exc.code, error=str(exc))

    with transaction.atomic():
        method = lock_one(PaymentMethod.objects.filter(pk=method.pk))
        if method.stripe_payment_method_id != card_id:
            # A newer card was saved (or this one removed) while Stripe answered: leave that one be.
            raise PaymentMethodChanged() if method.has_card else PaymentMethodNotFound()
        removed = CardRemoved(brand=method.brand, last4=method.last4, auto_topup_disabled=method.auto_topup_enabled)
        method.stripe_payment_method_id = method.brand = method.last4 = ""
        method.auto_topup_enabled = False
        # A late `setup_intent.succeeded` for the removed card is older than this and will not bring it back.
        method.saved_at = clock.now()
        method.save(update_fields=["stripe_payment_method_id", "brand", "last4", "auto_topup_enabled", "saved_at"])
        if removed.auto_topup_disabled:
            notify(
                users=[guardian.user],
                kind="auto_topup_disabled",
                title="Automatic top-up is off",
                body=f"You removed your saved card ({removed.brand} ending {removed.last4}), so automatic top-up has "
                "been switched off. Save a new card and turn it back on whenever you like.",
                data={"brand": removed.brand, "last4": removed.last4},
            )
    log.info("payment_method_removed", guardian_id=guardian.pk, auto_topup_disabled=removed.auto_topup_disabled)
    return removed
