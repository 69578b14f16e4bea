"""Card top-ups, refunds of unused balance to the card, the saved card and automatic top-up.

Invariants:
- A wallet is credited only by a verified Stripe event (wallet/stripe_events.py), never
  by a client's word; creating a top-up moves no money.
- The fee is shown before paying (`topup_quote`) and computed by one integer rule.
- Refunds send unused wallet money back to the cards it came from, newest top-up first,
  never more than a top-up's refundable remainder, and charge no fee. They are booked
  under the lock of the guardian's top-ups and wallet, so concurrent refunds cannot
  overdraw, and sent to Stripe after commit with a key derived from the refund row.
- Lock order everywhere: Stripe event row, top-up rows (by id), accounts (by id).
"""

from dataclasses import dataclass
from datetime import timedelta

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from core import clock
from core.jobs import enqueue_after_commit
from core.locks import lock_objects, lock_one, lock_one_or_none
from guardians.models import Guardian
from wallet import accounts, gateway, ledger, queries
from wallet.errors import (
    AmountOutOfRange,
    AutoTopUpIncomplete,
    InsufficientFunds,
    PaymentGatewayUnavailable,
    PaymentMethodNotFound,
    PaymentMethodRequired,
    RefundNotAvailable,
    TopUpKeyReused,
    TopUpNotFound,
    TopUpNotPending,
)
from wallet.gateway import GatewayDeclined, GatewayError, GatewayRejected, GatewayUnavailable, get_gateway
from wallet.models import Account, AccountKind, Entry, PaymentMethod, StripeEvent, TopUp, TopUpRefund
from wallet.notifications import notify_automatic_topup

log = structlog.get_logger("wallet.topups")

OUTCOMES = ("succeeded", "failed")
# Stripe keeps idempotency keys for 24 hours: past that, a resubmission could pay twice.
RESUBMIT_WITHIN = timedelta(hours=23)
MAX_EVENT_ATTEMPTS = 10


# --- Fees -----------------------------------------------------------------------


def round_half_up(numerator: int, denominator: int) -> int:
    """The one rounding rule for money: to the nearest cent, halves up, in integers."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("round_half_up takes a non-negative numerator and a positive denominator")
    return (2 * numerator + denominator) // (2 * denominator)


def topup_fee(amount: int) -> int:
    return settings.TOPUP_FEE_FIXED_CENTS + round_half_up(amount * settings.TOPUP_FEE_BASIS_POINTS, 10_000)


@dataclass(frozen=True)
class Quote:
    amount: int
    fee: int
    total: int
    currency: str = "AUD"


def topup_quote(*, amount: int) -> Quote:
    """What a top-up of `amount` costs: the wallet gets `amount`, the card pays `amount + fee`."""
    _check_topup_amount(amount)
    fee = topup_fee(amount)
    return Quote(amount=amount, fee=fee, total=amount + fee)


def _check_topup_amount(amount: int) -> None:
    low, high = settings.TOPUP_MIN_CENTS, settings.TOPUP_MAX_CENTS
    if type(amount) is not int or not low <= amount <= high:
        raise AmountOutOfRange(f"A top-up must be between {low} and {high} cents.", minimum=low, maximum=high)


# --- Top-ups --------------------------------------------------------------------


@dataclass(frozen=True)
class TopUpStarted:
    topup: TopUp
    client_secret: str
    publishable_key: str


def topup_create(*, guardian: Guardian, amount: int, request_key: str) -> TopUpStarted:
    """Create a top-up and its PaymentIntent for amount + fee. Credits nothing: the webhook does.

    The same request key finds the same top-up, and Stripe is asked with a key derived from
    the top-up, so a retry after a timeout returns the same PaymentIntent.
    """
    quote = topup_quote(amount=amount)
    key = f"guardian:{guardian.pk}:{request_key}"
    topup = TopUp.objects.filter(request_key=key).first()
    if topup is None:
        try:
            with transaction.atomic():
                topup = TopUp.objects.create(guardian=guardian, amount=amount, fee=quote.fee, request_key=key)
        except IntegrityError:
            topup = TopUp.objects.get(request_key=key)
    if topup.amount != amount:
        raise TopUpKeyReused()
    if topup.status not in (TopUp.Status.PENDING, TopUp.Status.FAILED):
        raise TopUpNotPending()
    try:
        intent = get_gateway().create_payment_intent(
            amount=topup.total_charged,
            metadata={"topup_id": topup.pk, "guardian_id": guardian.pk},
            idempotency_key=f"tuckbox-topup-{topup.pk}",
            description=f"Tuckbox wallet top-up {topup.pk}",
        )
    except GatewayError as exc:
        log.warning("topup_gateway_error", topup_id=topup.pk, error=str(exc), kind=type(exc).__name__)
        raise PaymentGatewayUnavailable() from exc
    TopUp.objects.filter(pk=topup.pk, payment_intent_id__isnull=True).update(payment_intent_id=intent.id)
    topup.refresh_from_db()
    return TopUpStarted(topup=topup, client_secret=intent.client_secret, publishable_key=settings.STRIPE_PUBLISHABLE_KEY)


def topups_for_guardian(guardian: Guardian) -> QuerySet[TopUp]:
    return TopUp.objects.filter(guardian=guardian).order_by("-id")


def topup_for_guardian(*, guardian: Guardian, topup_id: int) -> TopUp:
    topup = topups_for_guardian(guardian).filter(pk=topup_id).first()
    if topup is None:
        raise TopUpNotFound()
    return topup


def topup_simulate(*, guardian: Guardian, topup_id: int, outcome: str) -> TopUp:
    """Fake gateway only: pay (or fail) a top-up by delivering the signed event Stripe would send."""
    from wallet.gateway.fake import deliver_event, payment_intent_object

    if not gateway.is_fake():
        raise TopUpNotFound("Simulation exists only with the fake payment gateway.")
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    topup = topup_for_guardian(guardian=guardian, topup_id=topup_id)
    if topup.status not in (TopUp.Status.PENDING, TopUp.Status.FAILED) or not topup.payment_intent_id:
        raise TopUpNotPending()
    deliver_event(
        "payment_intent.succeeded" if outcome == "succeeded" else "payment_intent.payment_failed",
        payment_intent_object(
            intent_id=topup.payment_intent_id,
            amount=topup.total_charged,
            metadata={"topup_id": topup.pk, "guardian_id": guardian.pk},
            outcome=outcome,
        ),
    )
    topup.refresh_from_db()
    return topup


# --- Refunds of unused balance ------------------------------------------------------


@dataclass(frozen=True)
class WalletRefund:
    amount: int
    refunds: list[TopUpRefund]
    wallet_available: int


def wallet_refund_create(*, guardian: Guardian, amount: int, request_key: str) -> WalletRefund:
    """Send `amount` of unused wallet money back to the cards it came from, without fees.

    One ledger transaction per top-up used (wallet -part, clearing +part), newest top-up
    first. Raises InsufficientFunds if the wallet's available balance is short, and
    RefundNotAvailable if recent top-ups cannot take it all back.
    """
    if type(amount) is not int or not 0 < amount <= ledger.MAX_AMOUNT:
        raise AmountOutOfRange(minimum=1, maximum=ledger.MAX_AMOUNT)
    key = f"guardian:{guardian.pk}:{request_key}"
    done = list(TopUpRefund.objects.filter(request_key=key).order_by("id"))
    if done:  # the same request again (a crash after commit): never refund twice
        return WalletRefund(amount=amount, refunds=done, wallet_available=accounts.guardian_wallet(guardian).available)
    wallet = accounts.guardian_wallet(guardian)
    clearing = accounts.processor_clearing()
    since = clock.now() - timedelta(days=settings.TOPUP_REFUNDABLE_DAYS)
    with transaction.atomic(durable=True):
        candidates = lock_objects(
            TopUp.objects.filter(guardian=guardian, status=TopUp.Status.SUCCEEDED, succeeded_at__gte=since, payment_intent_id__isnull=False)
        )
        locked = ledger.lock_accounts([wallet.pk, clearing.pk])
        available = locked[wallet.pk].available
        if available < amount:
            raise InsufficientFunds(available=available)
        plan, remaining = [], amount
        for topup in sorted(candidates, key=lambda t: (t.succeeded_at, t.pk), reverse=True):
            part = min(topup.refundable, remaining)
            if part > 0:
                plan.append((topup, part))
                remaining -= part
            if remaining == 0:
                break
        if remaining:
            refundable = sum(topup.refundable for topup in candidates)
            raise RefundNotAvailable(refundable=refundable)
        rows = []
        for topup, part in plan:
            posted = ledger.post_locked(
                accounts=locked,
                kind="wallet_refund",
                reference=f"wallet_refund:{key}:{topup.pk}",
                legs=[ledger.Leg(wallet.pk, -part), ledger.Leg(clearing.pk, part)],
                actor=f"user:{guardian.user_id}",
                memo=f"Refund to card of top-up {topup.pk}",
                metadata={"topup_id": topup.pk},
            )
            rows.append(
                TopUpRefund.objects.create(topup=topup, amount=part, origin="guardian", request_key=key, transaction=posted)
            )
            topup.refunded_amount += part
            if topup.refunded_amount == topup.amount:
                topup.status = TopUp.Status.REFUNDED
            topup.save(update_fields=["refunded_amount", "status"])
    rows = [topup_refund_submit(refund_id=row.pk) for row in rows]
    return WalletRefund(amount=amount, refunds=rows, wallet_available=accounts.guardian_wallet(guardian).available)


def topup_refund_submit(*, refund_id: int) -> TopUpRefund:
    """Ask Stripe for a booked refund. Safe to repeat: the key is the refund row's.

    Unreachable Stripe leaves it pending for the sweeper; a refusal reverses the booking.
    """
    refund = TopUpRefund.objects.select_related("topup").get(pk=refund_id)
    if refund.status != TopUpRefund.Status.PENDING or refund.stripe_refund_id:
        return refund
    try:
        result = get_gateway().create_refund(
            payment_intent=refund.topup.payment_intent_id,
            amount=refund.amount,
            metadata={"topup_id": refund.topup_id, "topup_refund_id": refund.pk, "guardian_id": refund.topup.guardian_id},
            idempotency_key=f"tuckbox-topup-refund-{refund.pk}",
        )
    except GatewayUnavailable as exc:
        log.warning("topup_refund_pending", refund_id=refund.pk, error=str(exc))
        return refund
    except (GatewayRejected, GatewayDeclined) as exc:
        log.error("topup_refund_refused", refund_id=refund.pk, error=str(exc))
        return _refund_reverse(refund_id=refund.pk, code=exc.code or "refund_refused")
    if result.status in ("failed", "canceled"):
        return _refund_reverse(refund_id=refund.pk, code=f"refund_{result.status}")
    status = TopUpRefund.Status.SUCCEEDED if result.status == "succeeded" else TopUpRefund.Status.PENDING
    TopUpRefund.objects.filter(pk=refund.pk, stripe_refund_id__isnull=True).update(stripe_refund_id=result.id, status=status)
    refund.refresh_from_db()
    return refund


def _refund_reverse(*, refund_id: int, code: str) -> TopUpRefund:
    """Stripe refused a refund it never made: put the money back in the wallet."""
    refund = TopUpRefund.objects.select_related("topup__guardian").get(pk=refund_id)
    wallet = accounts.guardian_wallet(refund.topup.guardian)
    clearing = accounts.processor_clearing()
    with transaction.atomic(durable=True):
        topup = lock_one(TopUp.objects.filter(pk=refund.topup_id))
        refund = lock_one(TopUpRefund.objects.filter(pk=refund_id), key=True)  # reversal_transaction, one-to-one, is set
        locked = ledger.lock_accounts([wallet.pk, clearing.pk])
        if refund.status != TopUpRefund.Status.PENDING or refund.reversal_transaction_id:
            return refund
        reversal = ledger.reverse_locked(
            accounts=locked, original=refund.transaction, reference=f"wallet_refund_reversal:{refund.pk}", actor="stripe",
            memo=f"Stripe refused the refund ({code})",
        )
        refund.reversal_transaction = reversal
        refund.status = TopUpRefund.Status.FAILED
        refund.failure_code = code[:60]
        refund.save(update_fields=["reversal_transaction", "status", "failure_code"])
        topup.refunded_amount -= refund.amount
        if topup.status == TopUp.Status.REFUNDED:
            topup.status = TopUp.Status.SUCCEEDED
        topup.save(update_fields=["refunded_amount", "status"])
    return refund


# --- Saved card -----------------------------------------------------------------


@dataclass(frozen=True)
class SetupStarted:
    setup_intent_id: str
    client_secret: str
    customer_id: str
    publishable_key: str


def payment_method_setup(*, guardian: Guardian, request_key: str) -> SetupStarted:
    """Start saving a card: a SetupIntent for off-session use. `setup_intent.succeeded` stores the card."""
    gw = get_gateway()
    try:
        method = PaymentMethod.objects.filter(guardian=guardian).first()
        if method is None:
            customer = gw.create_customer(
                email=guardian.user.email,
                name=guardian.user.full_name,
                guardian_id=guardian.pk,
                idempotency_key=f"tuckbox-customer-guardian-{guardian.pk}",
            )
            method, _ = PaymentMethod.objects.get_or_create(guardian=guardian, defaults={"stripe_customer_id": customer.id})
        intent = gw.create_setup_intent(
            customer=method.stripe_customer_id,
            metadata={"guardian_id": guardian.pk},
            idempotency_key=f"tuckbox-setup-guardian-{guardian.pk}-{request_key}",
        )
    except GatewayError as exc:
        log.warning("setup_gateway_error", guardian_id=guardian.pk, error=str(exc))
        raise PaymentGatewayUnavailable() from exc
    return SetupStarted(
        setup_intent_id=intent.id, client_secret=intent.client_secret, customer_id=method.stripe_customer_id,
        publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
    )


def payment_method_for(guardian: Guardian) -> PaymentMethod:
    method = PaymentMethod.objects.filter(guardian=guardian).first()
    if method is None or not method.has_card:
        raise PaymentMethodNotFound()
    return method


# --- Automatic top-up -------------------------------------------------------------


def auto_topup_update(*, guardian: Guardian, **changes) -> PaymentMethod:
    """Set `enabled`, `threshold` and `amount` (cents). Enabled needs a saved card and both amounts."""
    with transaction.atomic():
        method = lock_one_or_none(PaymentMethod.objects.filter(guardian=guardian))
        if method is None or not method.has_card:
            raise PaymentMethodRequired()
        for name in ("enabled", "threshold", "amount"):
            if name in changes:
                setattr(method, f"auto_topup_{name}", changes[name])
        if method.auto_topup_enabled:
            if method.auto_topup_threshold is None or method.auto_topup_amount is None:
                raise AutoTopUpIncomplete()
            _check_topup_amount(method.auto_topup_amount)
        method.save(update_fields=["auto_topup_enabled", "auto_topup_threshold", "auto_topup_amount"])
    return method


def auto_topup_check(student_id: int) -> TopUp | None:
    """Start an automatic top-up if the student's card is below its threshold: once per dip.

    Call after a charge commits. The top-up is made by the student's first money guardian
    (oldest link) who enabled it. A dip starts after the card's last ledger entry that left
    it at or above the threshold; the top-up's request key names that entry, so concurrent
    or later charges in the same dip find it taken. A new dip needs the card back at or
    above the threshold (any credit, including a successful automatic top-up).
    """
    method = queries.auto_topup_method(student_id)
    if method is None:  # nobody has automatic top-up on: no need to read the card
        return None
    card_account = Account.objects.filter(kind=AccountKind.STUDENT_CARD, student_id=student_id).first()
    if card_account is None or method.auto_topup_threshold is None or method.auto_topup_amount is None:
        return None
    threshold = method.auto_topup_threshold
    if card_account.available >= threshold:
        return None
    amount = method.auto_topup_amount
    if not settings.TOPUP_MIN_CENTS <= amount <= settings.TOPUP_MAX_CENTS:
        log.warning("auto_topup_amount_out_of_range", guardian_id=method.guardian_id, amount=amount)
        return None
    marker = (
        Entry.objects.filter(account=card_account, balance_after__gte=threshold).order_by("-id").values_list("id", flat=True).first()
        or 0
    )
    key = f"auto_topup:student:{student_id}:after_entry:{marker}"
    if TopUp.objects.filter(request_key=key).exists():
        return None
    try:
        with transaction.atomic():
            topup = TopUp.objects.create(
                guardian=method.guardian, student_id=student_id, amount=amount, fee=topup_fee(amount), automatic=True, request_key=key
            )
    except IntegrityError:
        return None  # another charge in the same dip got there first
    enqueue_after_commit("wallet.tasks.submit_automatic_topup", topup.pk)
    log.info("auto_topup_started", topup_id=topup.pk, student_id=student_id, threshold=threshold, balance=card_account.available)
    return topup


def auto_topup_submit(*, topup_id: int) -> TopUp:
    """Charge the saved card off-session for an automatic top-up. The success webhook credits it.

    Raises GatewayUnavailable (to be retried with the same key); a decline fails the top-up.
    """
    topup = TopUp.objects.select_related("guardian__user", "student").get(pk=topup_id)
    if not topup.automatic or topup.status != TopUp.Status.PENDING or topup.payment_intent_id:
        return topup
    method = PaymentMethod.objects.filter(guardian_id=topup.guardian_id).first()
    if method is None or not method.has_card or not method.auto_topup_enabled:
        return _automatic_topup_failed(topup_id, code="auto_topup_disabled", message="Automatic top-up was turned off.", notify=False)
    try:
        intent = get_gateway().create_off_session_payment_intent(
            amount=topup.total_charged,
            customer=method.stripe_customer_id,
            payment_method=method.stripe_payment_method_id,
            metadata={"topup_id": topup.pk, "guardian_id": topup.guardian_id, "student_id": topup.student_id, "automatic": "true"},
            idempotency_key=f"tuckbox-topup-{topup.pk}",
            description=f"Tuckbox automatic top-up {topup.pk}",
        )
    except (GatewayDeclined, GatewayRejected) as exc:
        return _automatic_topup_failed(
            topup_id, code=exc.decline_code or exc.code or "declined", message=exc.message, payment_intent_id=exc.payment_intent_id
        )
    TopUp.objects.filter(pk=topup.pk, payment_intent_id__isnull=True).update(payment_intent_id=intent.id)
    topup.refresh_from_db()
    return topup


def _automatic_topup_failed(topup_id: int, *, code: str, message: str, payment_intent_id: str | None = None, notify: bool = True) -> TopUp:
    with transaction.atomic():
        # FOR UPDATE: it may set payment_intent_id, a unique column.
        topup = lock_one(TopUp.objects.select_related("guardian__user", "student").filter(pk=topup_id), key=True)
        if topup.status != TopUp.Status.PENDING:
            return topup
        topup.status = TopUp.Status.FAILED
        topup.failure_code = code[:60]
        topup.failure_message = (message or "")[:300]
        fields = ["status", "failure_code", "failure_message"]
        if payment_intent_id and not topup.payment_intent_id and not TopUp.objects.filter(payment_intent_id=payment_intent_id).exists():
            topup.payment_intent_id = payment_intent_id
            fields.append("payment_intent_id")
        topup.save(update_fields=fields)
        if notify:
            notify_automatic_topup(topup, succeeded=False)
    return topup


# --- Sweeper ----------------------------------------------------------------------


def payments_sweep() -> dict[str, int]:
    """Retry what a lost task or an outage left behind: unprocessed events, unsent refunds and automatic top-ups."""
    from wallet.stripe_events import stripe_event_process

    now = clock.now()
    cutoff, oldest = now - settings.PAYMENTS_SWEEP_AFTER, now - RESUBMIT_WITHIN
    done = {"events": 0, "refunds": 0, "automatic_topups": 0}
    stuck_events = StripeEvent.objects.filter(processed_at__isnull=True, received_at__lte=cutoff, attempts__lt=MAX_EVENT_ATTEMPTS)
    for event_id in stuck_events.order_by("received_at").values_list("pk", flat=True)[:500]:
        try:
            stripe_event_process(event_id=event_id)
            done["events"] += 1
        except Exception:
            log.exception("sweep_event_failed", event_id=event_id)
    unsent = TopUpRefund.objects.filter(
        status=TopUpRefund.Status.PENDING, stripe_refund_id__isnull=True, origin="guardian", created_at__range=(oldest, cutoff)
    )
    for refund_id in unsent.values_list("pk", flat=True)[:500]:
        if topup_refund_submit(refund_id=refund_id).stripe_refund_id:
            done["refunds"] += 1
    unpaid = TopUp.objects.filter(
        automatic=True, status=TopUp.Status.PENDING, payment_intent_id__isnull=True, created_at__range=(oldest, cutoff)
    )
    for topup_id in unpaid.values_list("pk", flat=True)[:500]:
        try:
            auto_topup_submit(topup_id=topup_id)
            done["automatic_topups"] += 1
        except GatewayError:
            log.warning("sweep_auto_topup_unavailable", topup_id=topup_id)
    return done
