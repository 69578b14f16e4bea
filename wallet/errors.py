"""Wallet domain errors. Card declines share PaymentRefusedError so the API answers 402."""

from core.errors import ConflictError, DomainError, NotFoundError, PaymentRefusedError


class TerminalNotFound(NotFoundError):
    code = "terminal_not_found"
    default_message = "No such terminal."


class InvalidAbn(DomainError):
    code = "invalid_abn"
    default_message = "That is not a valid Australian Business Number."


class InsufficientFunds(PaymentRefusedError):
    code = "insufficient_funds"
    default_message = "There is not enough money available."


class DailyCapExceeded(PaymentRefusedError):
    code = "daily_cap_exceeded"
    default_message = "This would go over the daily spending cap."


class WeeklyCapExceeded(PaymentRefusedError):
    code = "weekly_cap_exceeded"
    default_message = "This would go over the weekly spending cap."


class CardFrozen(PaymentRefusedError):
    code = "card_frozen"
    default_message = "This card is frozen, lost or replaced."


class CategoryBanned(PaymentRefusedError):
    code = "category_banned"
    default_message = "A guardian has banned this kind of purchase."


class UnknownCard(PaymentRefusedError):
    code = "unknown_card"
    default_message = "This card is not known."


class CategoryNotRegistered(DomainError):
    code = "category_not_registered"
    default_message = "This merchant is not registered to trade in that category."


class CategoryRequired(DomainError):
    code = "category_required"
    default_message = "This merchant trades in several categories: say which of them this purchase is in."


class CardAcceptanceNotFound(NotFoundError):
    code = "card_acceptance_not_found"
    default_message = "This school does not accept cards at that merchant."


class CardNotFound(NotFoundError):
    code = "card_not_found"
    default_message = "No such card."


class CardStateInvalid(ConflictError):
    code = "card_state_invalid"
    default_message = "The card cannot make that change from its current state."


class ChargeNotFound(NotFoundError):
    code = "charge_not_found"
    default_message = "No such charge for this merchant."


class RefundWindowClosed(DomainError):
    code = "refund_window_closed"
    default_message = "The refund window for this charge has closed."


class RefundExceedsCharge(DomainError):
    code = "refund_exceeds_charge"
    default_message = "The refund is larger than what is left of the charge."


class AmountOutOfRange(DomainError):
    code = "amount_out_of_range"
    default_message = "The amount is outside the allowed range."


class CardIdentifierTaken(ConflictError):
    code = "card_identifier_taken"
    default_message = "A card with this identifier already exists."


# --- Card payments (top-ups, refunds to card, saved card, Stripe webhooks) ---------


class TopUpNotFound(NotFoundError):
    code = "not_found"
    default_message = "No such top-up."


class TopUpNotPending(ConflictError):
    code = "topup_not_pending"
    default_message = "This top-up is no longer waiting for payment."


class RefundNotAvailable(DomainError):
    code = "refund_not_available"
    default_message = "That much cannot be refunded to your cards: only recent card top-ups can be refunded."


class PaymentMethodNotFound(NotFoundError):
    code = "payment_method_not_found"
    default_message = "No card is saved."


class PaymentMethodRequired(ConflictError):
    code = "payment_method_required"
    default_message = "Save a card before turning on automatic top-up."


class PaymentGatewayUnavailable(DomainError):
    """The processor could not be reached or failed; nothing was charged, retrying is safe."""

    code = "payment_gateway_unavailable"
    default_message = "The payment processor is unavailable; please try again shortly."


class WebhookSignatureInvalid(DomainError):
    code = "invalid_signature"
    default_message = "The Stripe-Signature header does not match the body, or the event is too old."


class WebhookPayloadInvalid(DomainError):
    code = "invalid_event"
    default_message = "The body is not a Stripe event."


class TerminalRevoked(ConflictError):
    code = "terminal_revoked"
    default_message = "This terminal has been revoked; register a new one instead."


class PaymentMethodChanged(ConflictError):
    code = "payment_method_changed"
    default_message = "A new card was saved while this one was being removed; look at your saved card again."
class TopUpKeyReused(DomainError):
    code = "idempotency_key_reused"
    default_message = "This Idempotency-Key was already used for another top-up."


class AutoTopUpIncomplete(DomainError):
    code = "auto_topup_incomplete"
    default_message = "Automatic top-up needs a threshold and an amount."


class UnknownCategory(AmountOutOfRange):
    code = "unknown_category"
    default_message = "That is not a category of purchase."
