from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.serializers.fields import CentsField
from wallet.models import CardStatus, MerchantCategory


def category_field():
    return serializers.ChoiceField(choices=MerchantCategory.choices)


class CardFundInput(serializers.Serializer):
    amount = CentsField(max_value=settings.TOPUP_MAX_CENTS * 10)


class CardTransferOutput(serializers.Serializer):
    """A transfer between wallet and card (wallet.card_transfer.CardTransferred)."""

    transaction_id = serializers.IntegerField(source="transaction.pk")
    amount = serializers.IntegerField()
    wallet_balance = serializers.IntegerField(help_text="Guardian wallet balance after the transfer, cents.")
    card_balance = serializers.IntegerField(help_text="The child's card balance after the transfer, cents.")


class SpendingControlsInput(serializers.Serializer):
    daily_cap = CentsField(allow_null=True, required=False, min_value=0, max_value=1_000_000, help_text="Cents a school day; null removes the cap.")
    weekly_cap = CentsField(allow_null=True, required=False, min_value=0, max_value=1_000_000, help_text="Cents a school week; null removes the cap.")
    banned_categories = serializers.ListField(child=category_field(), required=False, max_length=len(MerchantCategory.values))
    low_balance_threshold = CentsField(allow_null=True, required=False, min_value=0, max_value=1_000_000)


class SpendingControlsOutput(serializers.Serializer):
    daily_cap = serializers.IntegerField(allow_null=True)
    weekly_cap = serializers.IntegerField(allow_null=True)
    banned_categories = serializers.ListField(child=serializers.CharField())
    low_balance_threshold = serializers.IntegerField(allow_null=True)
    updated_at = serializers.DateTimeField()


class CardIssueInput(serializers.Serializer):
    identifier = serializers.RegexField(
        r"^[A-Za-z0-9 -]{6,40}$", max_length=40, help_text="The number the card carries (barcode, magstripe or NFC UID)."
    )


class CardOutput(serializers.Serializer):
    id = serializers.IntegerField()
    student_id = serializers.IntegerField()
    last4 = serializers.CharField(source="identifier_last4")
    status = serializers.ChoiceField(choices=CardStatus.choices)
    issued_at = serializers.DateTimeField()
    status_changed_at = serializers.DateTimeField()


class CardChargeInput(serializers.Serializer):
    card_identifier = serializers.CharField(max_length=40)
    amount = CentsField(max_value=settings.CARD_CHARGE_MAX_CENTS)
    categories = serializers.ListField(
        child=category_field(),
        required=False,
        default=list,
        max_length=8,
        help_text="Narrows the charge to some of the categories the merchant is registered for. Omit (or send []) "
        "only at a merchant registered for one category; naming an unregistered one is `category_not_registered`.",
    )
    description = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class CashierStudentOutput(serializers.Serializer):
    """All a cashier may see of the child (a Student)."""

    first_name = serializers.CharField()
    last_initial = serializers.SerializerMethodField()
    year_level = serializers.IntegerField()

    @extend_schema_field(OpenApiTypes.STR)
    def get_last_initial(self, student) -> str:
        return student.last_name[:1]


class CardChargeOutput(serializers.Serializer):
    """An approved charge (wallet.card_charge.ChargeApproved): the one declaration of the schema and the body."""

    charge_id = serializers.IntegerField(source="charge.pk")
    status = serializers.CharField(help_text="Always `approved`; a decline is a 402 problem with its reason code.")
    amount = serializers.IntegerField(source="charge.amount")
    refunded_amount = serializers.IntegerField(source="charge.refunded_amount")
    remaining_balance = serializers.IntegerField(help_text="Available on the card after this charge, cents.")
    categories = serializers.ListField(child=serializers.CharField(), source="charge.categories")
    description = serializers.CharField(source="charge.description")
    created_at = serializers.DateTimeField(source="charge.created_at")
    student = CashierStudentOutput(source="charge.student")


class MerchantChargeOutput(serializers.Serializer):
    charge_id = serializers.IntegerField(source="pk")
    terminal_id = serializers.IntegerField()
    amount = serializers.IntegerField()
    refunded_amount = serializers.IntegerField()
    categories = serializers.ListField(child=serializers.CharField())
    description = serializers.CharField()
    created_at = serializers.DateTimeField()
    card_last4 = serializers.CharField(source="card.identifier_last4")


class CardRefundInput(serializers.Serializer):
    amount = CentsField(required=False, max_value=settings.CARD_CHARGE_MAX_CENTS, help_text="Cents to refund; omit for the whole remainder.")


class CardRefundOutput(serializers.Serializer):
    refund_id = serializers.IntegerField(source="pk")
    charge_id = serializers.IntegerField()
    amount = serializers.IntegerField()
    charge_refunded_amount = serializers.IntegerField(source="charge.refunded_amount")
    created_at = serializers.DateTimeField()


class MerchantBalanceOutput(serializers.Serializer):
    merchant_id = serializers.IntegerField()
    merchant_name = serializers.CharField()
    payable_balance = serializers.IntegerField(help_text="What we owe the merchant now (paid out at settlement), cents.")
    currency = serializers.CharField()


class CardAcceptanceOutput(serializers.Serializer):
    merchant_id = serializers.IntegerField()
    merchant_name = serializers.CharField(source="merchant.name")
    merchant_categories = serializers.ListField(child=serializers.CharField(), source="merchant.categories")
    enabled_at = serializers.DateTimeField()
