"""Stripe webhooks: verify the signature, store each event once, process it once, after commit.

`stripe_webhook_receive` runs in the request: it checks the Stripe-Signature header on
the raw body (HMAC-SHA256, 300 s tolerance), stores the event by its id (a redelivery
finds the stored row) and enqueues processing after commit. `stripe_event_process`
runs in a task: under the event's row lock it skips an event already processed, then
applies it under the top-up's lock and the account locks, in that order everywhere.

Events arrive twice, late and out of order, so every handler converges on the same
state whatever the order:

- a PaymentIntent is credited once, by the ledger reference `topup:<pi id>`;
- a refund or dispute for a payment not yet credited credits it first;
- refunds made at Stripe are booked as the increase of the charge's cumulative
  `amount_refunded` over what we already booked, so a duplicate books nothing;
- a `payment_intent.payment_failed` after success changes nothing.

Money taken back by Stripe (a refund from its dashboard, a dispute) comes out of the
guardian's wallet as far as its available balance goes; the rest is booked to the
`guardian_receivable` account (may go negative: the guardian owes it), never lost and
never conjured. The fee part of a refund comes back out of platform fees. A dispute
won reverses its withdrawal exactly, wallet and receivable included.
"""

import json
from datetime import UTC, datetime

import stripe
import structlog
from django.conf import settings
from django.db import transaction
from django.db.models import F

from core import clock
from core.jobs import enqueue_after_commit
from core.locks import lock_one, lock_one_or_none
from wallet import accounts, ledger, webhook_events
from wallet.errors import WebhookPayloadInvalid, WebhookSignatureInvalid
from wallet.gateway import get_gateway
from wallet.models import AccountKind, PaymentMethod, ReconciliationIssue, StripeEvent, TopUp, TopUpRefund
from wallet.notifications import notify_automatic_topup

log = structlog.get_logger("wallet.stripe_events")

GUARDIAN_RECEIVABLE = "guardian_receivable"
ACTOR = "stripe"


class EventRejected(Exception):
    """The event contradicts our records (amount, currency): retrying cannot help; a person must look."""


# --- Receive (in the request) ---------------------------------------------------


def stripe_webhook_receive(*, payload: bytes, signature: str | None) -> tuple[StripeEvent, bool]:
    """Verify and store an event; returns (event, created). Processing is enqueued after commit."""
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError):
        raise WebhookSignatureInvalid() from None
    try:
        data = json.loads(payload)
    except ValueError:
        raise WebhookPayloadInvalid() from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("id"), str)
        or not 0 < len(data["id"]) <= 100
        or not isinstance(data.get("type"), str)
        or not isinstance((data.get("data") or {}).get("object"), dict)
    ):
        raise WebhookPayloadInvalid()
    created_at = datetime.fromtimestamp(data["created"], tz=UTC) if isinstance(data.get("created"), int) else None
    with transaction.atomic():
        event, created = StripeEvent.objects.get_or_create(
            pk=data["id"], defaults={"type": data["type"][:80], "payload": data, "stripe_created_at": created_at}
        )
        if event.processed_at is None:
            # A redelivery of an event not yet processed (a failure, a lost task) is a nudge to try again.
            enqueue_after_commit("wallet.tasks.process_stripe_event", event.pk)
    log.info("stripe_event_received", event_id=event.pk, type=event.type, duplicate=not created)
    return event, created


# --- Process (in a task) --------------------------------------------------------


def stripe_event_process(*, event_id: str) -> str:
    """Apply one stored event, once. Returns what happened; raises (after recording the error) to be retried."""
    event = StripeEvent.objects.filter(pk=event_id).first()
    if event is None or event.processed_at is not None:
        return "already_processed"
    try:
        prepared = _prepare(event)  # network look-ups happen before any lock is taken
        with transaction.atomic(durable=True):
            event = lock_one(StripeEvent.objects.filter(pk=event_id))
            if event.processed_at is not None:
                return "already_processed"
            handler = HANDLERS.get(event.type)
            outcome = handler(event.payload["data"]["object"], event, prepared) if handler else "ignored"
            StripeEvent.objects.filter(pk=event_id).update(
                processed_at=clock.now(), error="", attempts=F("attempts") + 1
            )
    except Exception as exc:
        StripeEvent.objects.filter(pk=event_id).update(
            error=f"{type(exc).__name__}: {exc}"[:300], attempts=F("attempts") + 1
        )
        log.warning("stripe_event_failed", event_id=event_id, error=str(exc))
        raise
    log.info("stripe_event_processed", event_id=event_id, type=event.type, outcome=outcome)
    return outcome


def _prepare(event: StripeEvent) -> dict:
    """Fetch what an event does not carry. setup_intent events name the card by id only."""
    if event.type != "setup_intent.succeeded":
        return {}
    method = event.payload["data"]["object"].get("payment_method")
    if isinstance(method, dict):
        card = method.get("card") or {}
        return {"card": {"id": method.get("id"), "brand": card.get("brand") or "", "last4": card.get("last4") or ""}}
    if isinstance(method, str):
        details = get_gateway().retrieve_card(method)
        return {"card": {"id": details.payment_method_id, "brand": details.brand, "last4": details.last4}}
    return {}


# --- Payments -------------------------------------------------------------------


def _on_payment_intent_succeeded(intent: dict, event: StripeEvent, prepared: dict) -> str:
    topup = _lock_topup(intent.get("id"), intent.get("metadata"))
    if topup is None:
        return "ignored: unknown payment intent"
    received = intent.get("amount_received", intent.get("amount"))
    if received != topup.total_charged or str(intent.get("currency", "")).lower() != "aud":
        raise EventRejected(
            f"PaymentIntent {intent.get('id')} received {received} {intent.get('currency')}, top-up {topup.pk} expects {topup.total_charged} aud"
        )
    locked = _lock_accounts_for(topup)
    credited = _credit_locked(topup, locked, charge_id=intent.get("latest_charge"))
    return "credited" if credited else "already_credited"


def _on_payment_intent_failed(intent: dict, event: StripeEvent, prepared: dict) -> str:
    topup = _lock_topup(intent.get("id"), intent.get("metadata"))
    if topup is None:
        return "ignored: unknown payment intent"
    if topup.status in (TopUp.Status.SUCCEEDED, TopUp.Status.REFUNDED):
        return "ignored: already succeeded"  # a failed attempt delivered after the successful one
    error = intent.get("last_payment_error") or {}
    topup.status = TopUp.Status.FAILED
    topup.failure_code = (error.get("decline_code") or error.get("code") or "payment_failed")[:60]
    topup.failure_message = (error.get("message") or "")[:300]
    topup.save(update_fields=["status", "failure_code", "failure_message"])
    if topup.automatic:
        notify_automatic_topup(topup, succeeded=False)
    return "failed"


def _credit_locked(topup: TopUp, locked: dict, *, charge_id: str | None) -> bool:
    """Credit a top-up (once): processor clearing -(amount + fee), wallet +amount, fees +fee.

    An automatic top-up then moves its amount on to the student's card, if the guardian
    still manages that student's money. Caller holds the top-up's and the accounts' locks.
    """
    if topup.credit_transaction_id is not None:
        return False
    ids = _account_ids(topup)
    legs = [ledger.Leg(ids["clearing"], -topup.total_charged), ledger.Leg(ids["wallet"], topup.amount)]
    if topup.fee:
        legs.append(ledger.Leg(ids["fees"], topup.fee))
    credit = ledger.post_locked(
        accounts=locked,
        kind="topup",
        reference=f"topup:{topup.payment_intent_id}",
        legs=legs,
        actor=ACTOR,
        memo=f"Card top-up {topup.pk}",
        metadata={"topup_id": topup.pk, "guardian_id": topup.guardian_id, "fee": topup.fee},
    )
    topup.credit_transaction = credit
    topup.status = TopUp.Status.SUCCEEDED
    topup.succeeded_at = clock.now()
    topup.failure_code = topup.failure_message = ""
    topup.charge_id = charge_id or topup.charge_id
    topup.save(update_fields=["credit_transaction", "status", "succeeded_at", "failure_code", "failure_message", "charge_id"])
    webhook_events.topup_succeeded_publish(topup=topup)
    if "card" in ids:
        ledger.post_locked(
            accounts=locked,
            kind="auto_topup_card",
            reference=f"auto_topup_card:{topup.pk}",
            legs=[ledger.Leg(ids["wallet"], -topup.amount), ledger.Leg(ids["card"], topup.amount)],
            actor=ACTOR,
            memo=f"Automatic top-up to {topup.student.first_name}'s card",
            metadata={"topup_id": topup.pk, "student_id": topup.student_id},
        )
    if topup.automatic:
        notify_automatic_topup(topup, succeeded=True, moved_to_card="card" in ids)
    return True


# --- Refunds made at Stripe -------------------------------------------------------


def _on_charge_refunded(charge: dict, event: StripeEvent, prepared: dict) -> str:
    topup = _lock_topup(charge.get("payment_intent"), charge.get("metadata"))
    if topup is None:
        return "ignored: unknown charge"
    if charge.get("amount") != topup.total_charged:
        raise EventRejected(f"charge {charge.get('id')} of {charge.get('amount')} does not match top-up {topup.pk}")
    locked = _lock_accounts_for(topup)
    _credit_locked(topup, locked, charge_id=charge.get("id"))  # a refund proves the payment succeeded
    cumulative = charge.get("amount_refunded")
    if type(cumulative) is not int or cumulative < 0:
        raise EventRejected(f"charge {charge.get('id')} has no usable amount_refunded")
    if cumulative > topup.processor_refunded:
        topup.processor_refunded = cumulative
        topup.save(update_fields=["processor_refunded"])
    booked = _book_processor_refunds_locked(topup, locked)
    return f"refunded {booked}" if booked else "nothing new refunded"


def _book_processor_refunds_locked(topup: TopUp, locked: dict) -> int:
    """Book whatever Stripe refunded beyond what we already booked (ours included). Returns cents booked."""
    delta = topup.processor_refunded - (topup.refunded_amount + topup.fee_refunded)
    if delta <= 0:
        return 0
    principal = min(delta, topup.amount - topup.refunded_amount)
    fee = min(delta - principal, topup.fee - topup.fee_refunded)
    if principal + fee != delta:
        raise EventRejected(f"Stripe refunded {topup.processor_refunded} of top-up {topup.pk}, more than it charged")
    withdrawal = _take_back_locked(
        topup,
        locked,
        principal=principal,
        fee=fee,
        kind="topup_refund",
        reference=f"topup_refund:{topup.payment_intent_id}:{topup.processor_refunded}",
        memo=f"Refund at Stripe of top-up {topup.pk}",
    )
    TopUpRefund.objects.create(
        topup=topup,
        amount=delta,
        origin="stripe",
        status=TopUpRefund.Status.SUCCEEDED,
        transaction=withdrawal.transaction,
        fee_amount=fee,
        shortfall=withdrawal.shortfall,
    )
    topup.refunded_amount += principal
    topup.fee_refunded += fee
    if topup.refunded_amount == topup.amount:
        topup.status = TopUp.Status.REFUNDED
    topup.save(update_fields=["refunded_amount", "fee_refunded", "status"])
    return delta


class _Withdrawal:
    def __init__(self, transaction, shortfall):
        self.transaction = transaction
        self.shortfall = shortfall


def _take_back_locked(topup: TopUp, locked: dict, *, principal: int, fee: int, kind: str, reference: str, memo: str) -> _Withdrawal:
    """Stripe took `principal + fee` back: clearing +total; wallet -what it can, receivable -the rest; fees -fee."""
    ids = _account_ids(topup)
    wallet = locked[ids["wallet"]]
    from_wallet = min(principal, max(wallet.available, 0))
    shortfall = principal - from_wallet
    legs = [ledger.Leg(ids["clearing"], principal + fee)]
    if from_wallet:
        legs.append(ledger.Leg(ids["wallet"], -from_wallet))
    if fee:
        legs.append(ledger.Leg(ids["fees"], -fee))
    if shortfall:
        legs.append(ledger.Leg(ids["receivable"], -shortfall))
    posted = ledger.post_locked(
        accounts=locked,
        kind=kind,
        reference=reference,
        legs=legs,
        actor=ACTOR,
        memo=memo,
        metadata={"topup_id": topup.pk, "guardian_id": topup.guardian_id, "fee": fee, "shortfall": shortfall},
    )
    if shortfall:
        log.warning("processor_take_back_shortfall", topup_id=topup.pk, guardian_id=topup.guardian_id, shortfall=shortfall)
    return _Withdrawal(posted, shortfall)


def _on_refund_updated(refund: dict, event: StripeEvent, prepared: dict) -> str:
    """One of our refunds failed after Stripe accepted it: the money is back at Stripe, not with the guardian.

    Whether Stripe then lowers the charge's `amount_refunded` is not something to guess
    at with money, so nothing is booked automatically: the refund is marked failed and a
    reconciliation issue tells finance to credit the wallet back.
    """
    if refund.get("status") not in ("failed", "canceled"):
        if refund.get("status") == "succeeded":
            TopUpRefund.objects.filter(stripe_refund_id=refund.get("id"), status=TopUpRefund.Status.PENDING).update(
                status=TopUpRefund.Status.SUCCEEDED
            )
        return "ok"
    row = lock_one_or_none(TopUpRefund.objects.filter(stripe_refund_id=refund.get("id")))
    if row is None or row.status == TopUpRefund.Status.FAILED:
        return "ignored"
    row.status = TopUpRefund.Status.FAILED
    row.failure_code = (refund.get("failure_reason") or refund.get("status") or "")[:60]
    row.save(update_fields=["status", "failure_code"])
    ReconciliationIssue.objects.create(
        kind=ReconciliationIssue.Kind.PROCESSOR_MISMATCH,
        transaction=row.transaction,
        expected=row.amount,
        actual=0,
        detail=f"Stripe refund {row.stripe_refund_id} of {row.amount} (top-up {row.topup_id}) failed after acceptance: "
        f"credit guardian {row.topup.guardian_id}'s wallet back.",
    )
    return "refund failed: reconciliation issue opened"


# --- Disputes (chargebacks) -------------------------------------------------------


def _on_dispute_withdrawn(dispute: dict, event: StripeEvent, prepared: dict) -> str:
    if event.type == "charge.dispute.created" and str(dispute.get("status", "")).startswith("warning_"):
        return "ignored: inquiry, no funds withdrawn"
    topup = _lock_topup(dispute.get("payment_intent"), dispute.get("metadata"))
    if topup is None:
        return "ignored: unknown payment"
    locked = _lock_accounts_for(topup)
    row = _dispute_withdraw_locked(topup, locked, dispute)
    return f"withdrawn {row.amount}"


def _on_dispute_reinstated(dispute: dict, event: StripeEvent, prepared: dict) -> str:
    topup = _lock_topup(dispute.get("payment_intent"), dispute.get("metadata"))
    if topup is None:
        return "ignored: unknown payment"
    locked = _lock_accounts_for(topup)
    # Withdraw first if that event has not arrived yet: both orders end in the same state.
    row = _dispute_withdraw_locked(topup, locked, dispute)
    if row.reversal_transaction_id is not None:
        return "already reinstated"
    reversal = ledger.reverse_locked(
        accounts=locked, original=row.transaction, reference=f"dispute:{row.stripe_dispute_id}:reinstated", actor=ACTOR,
        memo=f"Dispute {row.stripe_dispute_id} won",
    )
    row.reversal_transaction = reversal
    row.status = TopUpRefund.Status.REINSTATED
    row.save(update_fields=["reversal_transaction", "status"])
    TopUp.objects.filter(pk=topup.pk).update(disputed_amount=F("disputed_amount") - row.amount)
    return f"reinstated {row.amount}"


def _on_dispute_closed(dispute: dict, event: StripeEvent, prepared: dict) -> str:
    status = dispute.get("status")
    if status == "won":
        return _on_dispute_reinstated(dispute, event, prepared)
    if status == "lost":
        return _on_dispute_withdrawn(dispute, event, prepared)  # the money stays withdrawn
    return f"ignored: closed as {status}"


def _dispute_withdraw_locked(topup: TopUp, locked: dict, dispute: dict) -> TopUpRefund:
    dispute_id = dispute.get("id")
    existing = TopUpRefund.objects.filter(stripe_dispute_id=dispute_id).first()
    if existing is not None:
        return existing
    _credit_locked(topup, locked, charge_id=dispute.get("charge"))
    amount = dispute.get("amount")
    if type(amount) is not int or not 0 < amount <= topup.total_charged:
        raise EventRejected(f"dispute {dispute_id} amount {amount!r} does not fit top-up {topup.pk}")
    # The amount comes out of what is left of the top-up first, then of the fee. Anything
    # beyond both (Stripe would not allow it) is treated as principal: owed, never lost.
    fee = min(max(amount - (topup.amount - topup.refunded_amount), 0), topup.fee - topup.fee_refunded)
    principal = amount - fee
    withdrawal = _take_back_locked(
        topup, locked, principal=principal, fee=fee, kind="dispute_withdrawal", reference=f"dispute:{dispute_id}:withdrawn",
        memo=f"Dispute {dispute_id} ({dispute.get('reason') or 'unknown reason'})",
    )
    row = TopUpRefund.objects.create(
        topup=topup,
        amount=amount,
        origin="dispute",
        status=TopUpRefund.Status.WITHDRAWN,
        stripe_dispute_id=dispute_id,
        transaction=withdrawal.transaction,
        fee_amount=fee,
        shortfall=withdrawal.shortfall,
    )
    topup.disputed_amount += amount
    topup.save(update_fields=["disputed_amount"])
    return row


# --- Saved cards ------------------------------------------------------------------


def _on_setup_intent_succeeded(intent: dict, event: StripeEvent, prepared: dict) -> str:
    guardian_id = str((intent.get("metadata") or {}).get("guardian_id", ""))
    if not guardian_id.isdigit() or not prepared.get("card"):
        return "ignored: not ours"
    method = lock_one_or_none(PaymentMethod.objects.filter(guardian_id=int(guardian_id), stripe_customer_id=intent.get("customer")))
    if method is None:
        return "ignored: unknown customer"
    saved_at = event.stripe_created_at or clock.now()
    if method.saved_at is not None and saved_at < method.saved_at:
        return "ignored: a newer card is saved"
    card = prepared["card"]
    method.stripe_payment_method_id = card["id"]
    method.brand = card["brand"][:20]
    method.last4 = card["last4"][:4]
    method.setup_intent_id = intent.get("id") or ""
    method.saved_at = saved_at
    method.save(update_fields=["stripe_payment_method_id", "brand", "last4", "setup_intent_id", "saved_at"])
    return "card saved"


HANDLERS = {
    "payment_intent.succeeded": _on_payment_intent_succeeded,
    "payment_intent.payment_failed": _on_payment_intent_failed,
    "charge.refunded": _on_charge_refunded,
    "refund.updated": _on_refund_updated,
    "refund.failed": _on_refund_updated,
    "charge.refund.updated": _on_refund_updated,
    "charge.dispute.created": _on_dispute_withdrawn,
    "charge.dispute.funds_withdrawn": _on_dispute_withdrawn,
    "charge.dispute.funds_reinstated": _on_dispute_reinstated,
    "charge.dispute.closed": _on_dispute_closed,
    "setup_intent.succeeded": _on_setup_intent_succeeded,
}


# --- Locks ------------------------------------------------------------------------


def _lock_topup(payment_intent_id, metadata) -> TopUp | None:
    """The top-up behind a PaymentIntent, row-locked. Found by PaymentIntent id, or by our metadata
    when the event outran the response that gave us the id (off-session payments confirm at once).
    FOR UPDATE: the handlers set unique columns (credit_transaction, and payment_intent_id here)."""
    if not isinstance(payment_intent_id, str) or not payment_intent_id:
        return None
    topup = lock_one_or_none(TopUp.objects.select_related("student").filter(payment_intent_id=payment_intent_id), key=True)
    if topup is not None:
        return topup
    metadata = metadata if isinstance(metadata, dict) else {}
    topup_id, guardian_id = str(metadata.get("topup_id", "")), str(metadata.get("guardian_id", ""))
    if not topup_id.isdigit():
        return None
    topup = lock_one_or_none(
        TopUp.objects.select_related("student").filter(
            pk=int(topup_id), guardian_id=int(guardian_id) if guardian_id.isdigit() else None, payment_intent_id__isnull=True
        ),
        key=True,
    )
    if topup is not None:
        topup.payment_intent_id = payment_intent_id
        topup.save(update_fields=["payment_intent_id"])
    return topup


def _account_ids(topup: TopUp) -> dict[str, int]:
    ids = {
        "clearing": accounts.processor_clearing().pk,
        "wallet": accounts.guardian_wallet(topup.guardian).pk,
        "fees": accounts.platform_fees().pk,
        "receivable": guardian_receivable().pk,
    }
    if topup.student_id is not None and _manages_money(topup):
        ids["card"] = accounts.student_card_account(topup.student).pk
    return ids


def _manages_money(topup: TopUp) -> bool:
    return topup.guardian.links.filter(student_id=topup.student_id, revoked_at__isnull=True, can_manage_money=True).exists()


def _lock_accounts_for(topup: TopUp) -> dict:
    """Every account an event on this top-up may touch, locked at once in primary-key order."""
    return ledger.lock_accounts(_account_ids(topup).values())


def guardian_receivable():
    """What guardians owe us: refunds and disputes their wallet could not cover. Negative while owed."""
    return accounts.system_account(
        code=GUARDIAN_RECEIVABLE, kind=AccountKind.FEES, name="Owed by guardians (refunds and disputes beyond their wallet)"
    )
