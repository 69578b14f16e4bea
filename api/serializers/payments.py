"""Card top-ups, refunds to card, saved card and automatic top-up, and the Stripe webhook.

Amounts are JSON integers of cents; ranges that are business rules (top-up minimum and
maximum) are checked by the services and answered 422 `amount_out_of_range`.
"""

from django.conf import settings
from rest_framework import serializers

from api.serializers.fields import CentsField
from wallet.ledger import MAX_AMOUNT
from wallet.models import TopUp, TopUpRefund

CURRENCY_FIELD = serializers.CharField(default="AUD", help_text="ISO 4217; always AUD.")


class TopUpQuoteInput(serializers.Serializer):
    """Query parameters arrive as text: only plain digits are accepted, never `1.5`, `1e3` or `true`."""

    amount = serializers.RegexField(
        r"^[1-9][0-9]{0,8}$", max_length=9, help_text="Cents to credit to the wallet, e.g. `2000` for $20.00."
    )

    def validate_amount(self, value: str) -> int:
        return int(value)


class TopUpQuoteOutput(serializers.Serializer):
    amount = serializers.IntegerField(help_text="Credited to the wallet, cents.")
    fee = serializers.IntegerField(help_text="Card payment fee on top, cents.")
    total = serializers.IntegerField(help_text="What the card is charged: amount + fee, cents.")
    currency = serializers.CharField()


class TopUpCreateInput(serializers.Serializer):
    amount = CentsField(max_value=MAX_AMOUNT, help_text="Cents to credit to the wallet; the fee is charged on top.")


def _status_field(choices) -> serializers.CharField:
    # Plain strings with the values listed: two enums both named `status` would collide in the schema.
    return serializers.CharField(help_text="One of: " + ", ".join(f"`{value}`" for value in choices.values))


class TopUpOutput(serializers.ModelSerializer):
    status = _status_field(TopUp.Status)
    total = serializers.IntegerField(source="total_charged", help_text="amount + fee: what the card is charged.")
    currency = serializers.SerializerMethodField()
    student_id = serializers.IntegerField(allow_null=True, help_text="Automatic top-ups: the card it refills.")

    class Meta:
        model = TopUp
        fields = [
            "id",
            "amount",
            "fee",
            "total",
            "currency",
            "status",
            "automatic",
            "student_id",
            "payment_intent_id",
            "failure_code",
            "refunded_amount",
            "created_at",
            "succeeded_at",
        ]

    def get_currency(self, topup) -> str:
        return "AUD"


class TopUpCreateOutput(TopUpOutput):
    """The top-up, plus what the app needs to confirm the payment (given in the context)."""

    client_secret = serializers.SerializerMethodField(help_text="Give to Stripe.js to confirm the card payment. Only in this response.")
    publishable_key = serializers.SerializerMethodField(help_text="The Stripe publishable key to initialise Stripe.js with.")

    class Meta(TopUpOutput.Meta):
        fields = [*TopUpOutput.Meta.fields, "client_secret", "publishable_key"]

    def get_client_secret(self, topup) -> str:
        return self.context["client_secret"]

    def get_publishable_key(self, topup) -> str:
        return self.context["publishable_key"]


class TopUpSimulateInput(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["succeeded", "failed"], help_text="What the fake card payment does.")


class WalletRefundCreateInput(serializers.Serializer):
    amount = CentsField(max_value=MAX_AMOUNT, help_text="Cents of unused wallet balance to send back to your cards.")


class TopUpRefundOutput(serializers.ModelSerializer):
    status = _status_field(TopUpRefund.Status)
    topup_id = serializers.IntegerField()
    payment_intent_id = serializers.CharField(source="topup.payment_intent_id")

    class Meta:
        model = TopUpRefund
        fields = ["id", "topup_id", "payment_intent_id", "amount", "status", "stripe_refund_id", "failure_code", "created_at"]


class WalletRefundOutput(serializers.Serializer):
    amount = serializers.IntegerField()
    currency = CURRENCY_FIELD
    wallet_available = serializers.IntegerField(help_text="Your wallet's spendable balance afterwards, cents.")
    refunds = TopUpRefundOutput(many=True, help_text="One per card payment the money goes back to, newest first.")


class PaymentMethodSetupOutput(serializers.Serializer):
    setup_intent_id = serializers.CharField()
    client_secret = serializers.CharField(help_text="Give to Stripe.js (confirmCardSetup) to save the card.")
    customer_id = serializers.CharField()
    publishable_key = serializers.CharField()


class AutoTopUpOutput(serializers.Serializer):
    enabled = serializers.BooleanField(source="auto_topup_enabled")
    threshold = serializers.IntegerField(source="auto_topup_threshold", allow_null=True, help_text="Cents.")
    amount = serializers.IntegerField(source="auto_topup_amount", allow_null=True, help_text="Cents added each time.")


class PaymentMethodOutput(serializers.Serializer):
    brand = serializers.CharField()
    last4 = serializers.CharField()
    saved_at = serializers.DateTimeField(allow_null=True)
    auto_topup = AutoTopUpOutput(source="*")


class AutoTopUpUpdateInput(serializers.Serializer):
    enabled = serializers.BooleanField(required=False)
    threshold = CentsField(
        required=False, max_value=settings.TOPUP_MAX_CENTS, help_text="Top up when a child's card falls below this many cents."
    )
    amount = CentsField(required=False, max_value=MAX_AMOUNT, help_text="Cents to add each time (fee on top).")

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError("Send at least one of enabled, threshold, amount.", code="empty_update")
        return attrs


class StripeEventDataInput(serializers.Serializer):
    object = serializers.DictField(help_text="The Stripe object the event is about (PaymentIntent, Charge, Dispute, ...).")


class StripeWebhookInput(serializers.Serializer):
    """Documentation only: the raw body is verified byte for byte, never parsed before that."""

    id = serializers.CharField(help_text="evt_...")
    object = serializers.CharField(default="event")
    type = serializers.CharField(help_text="e.g. payment_intent.succeeded")
    created = serializers.IntegerField(help_text="Unix time.")
    data = StripeEventDataInput()


class StripeWebhookOutput(serializers.Serializer):
    received = serializers.BooleanField()
    event_id = serializers.CharField()
    duplicate = serializers.BooleanField(help_text="True when this event id had been received before.")
