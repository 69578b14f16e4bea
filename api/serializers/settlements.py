"""Voucher settlement runs: previews, runs and their lines, for program administrators."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from vouchers.models import Settlement

HELD_BACK_REASONS = [("nothing_owed", "Nothing owed, or the merchant owes: netted by a later run"), ("no_payout_destination", "No payout account recorded")]


class SettlementPeriodInput(serializers.Serializer):
    business_date = serializers.DateField(
        required=False,
        help_text="The last local day (program time zone) to settle; its redemptions and every earlier unsettled one. "
        "Default: yesterday there. Must have ended.",
    )


class SettlementPreviewLineOutput(serializers.Serializer):
    merchant_id = serializers.IntegerField(source="merchant.pk")
    merchant_name = serializers.CharField(source="merchant.name")
    redemption_count = serializers.IntegerField(help_text="Redemptions to settle, and voids to take back.")
    redeemed_amount = serializers.IntegerField(help_text="Cents.")
    voided_amount = serializers.IntegerField(help_text="Voids of redemptions paid by earlier settlements, cents.")
    amount = serializers.IntegerField(help_text="Would be paid: redeemed less voided, cents.")
    payable_balance = serializers.IntegerField(
        help_text="The merchant's payable balance in the ledger now, all programs and sales, cents."
    )
    will_be_paid = serializers.SerializerMethodField()
    held_back_reason = serializers.ChoiceField(choices=HELD_BACK_REASONS, allow_blank=True, help_text="Empty when paid.")

    def get_will_be_paid(self, line) -> bool:
        return not line.held_back_reason


class SettlementPreviewOutput(serializers.Serializer):
    program_id = serializers.SerializerMethodField()
    business_date = serializers.DateField(source="period.business_date")
    cutoff_at = serializers.DateTimeField(source="period.cutoff", help_text="Redemptions before this instant are settled.")
    time_zone = serializers.CharField(source="period.time_zone")
    existing_run_id = serializers.SerializerMethodField(help_text="The day's run, if it has one: a run now would pay nothing.")
    total_amount = serializers.IntegerField(help_text="Would be paid in all, cents.")
    currency = serializers.CharField()
    lines = SettlementPreviewLineOutput(many=True)

    def get_program_id(self, preview) -> int:
        return self.context["program"].pk

    def get_existing_run_id(self, preview) -> int | None:
        return preview.existing_run.pk if preview.existing_run else None


class SettlementRunTotalsOutput(serializers.Serializer):
    redeemed_amount = serializers.IntegerField(source="total_redeemed", help_text="Cents; refused transfers left out.")
    voided_amount = serializers.IntegerField(source="total_voided", help_text="Cents; refused transfers left out.")
    amount = serializers.IntegerField(source="total_amount", help_text="Booked to pay, cents; refused transfers left out.")
    paid_amount = serializers.IntegerField(source="total_paid", help_text="Transferred, cents.")


class SettlementRunOutput(serializers.Serializer):
    id = serializers.IntegerField()
    program_id = serializers.IntegerField()
    business_date = serializers.DateField()
    cutoff_at = serializers.DateTimeField()
    time_zone = serializers.CharField()
    started_by = serializers.CharField(help_text="`api`, `schedule` or `command:<operator>`.")
    created_at = serializers.DateTimeField()
    settlement_count = serializers.IntegerField(help_text="Merchants paid by the run.")
    pending_payout_count = serializers.IntegerField(source="pending_count", help_text="Transfers not yet confirmed.")
    failed_count = serializers.IntegerField(help_text="Transfers refused: booking reversed, redemptions left for a later run.")
    totals = SettlementRunTotalsOutput(source="*")
    currency = serializers.CharField()


class SettlementLineOutput(serializers.Serializer):
    settlement_id = serializers.IntegerField(source="pk")
    merchant_id = serializers.IntegerField()
    merchant_name = serializers.CharField(source="merchant.name")
    redeemed_amount = serializers.IntegerField()
    voided_amount = serializers.IntegerField()
    amount = serializers.IntegerField(help_text="Paid out, cents.")
    currency = serializers.CharField()
    status = serializers.ChoiceField(choices=Settlement.Status.choices)
    transfer_id = serializers.CharField()
    transaction_id = serializers.IntegerField(help_text="The ledger transaction: merchant payable -> voucher payouts.")
    reversal_transaction_id = serializers.IntegerField(allow_null=True, help_text="Its reversal, when the transfer was refused.")
    paid_at = serializers.DateTimeField(allow_null=True)


class SettlementRunDetailOutput(SettlementRunOutput):
    """The run with its lines, passed as context["lines"] (the run's settlements, merchant by merchant)."""

    lines = serializers.SerializerMethodField()
    transaction_ids = serializers.SerializerMethodField(help_text="Every ledger transaction the run posted or reversed.")

    @extend_schema_field(SettlementLineOutput(many=True))
    def get_lines(self, run) -> list:
        return SettlementLineOutput(self.context["lines"], many=True).data

    def get_transaction_ids(self, run) -> list[int]:
        ids = []
        for line in self.context["lines"]:
            ids.append(line.transaction_id)
            if line.reversal_transaction_id:
                ids.append(line.reversal_transaction_id)
        return ids
