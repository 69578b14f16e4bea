"""Balances, statements, card summaries and reconciliation issues, as the API shows them."""

from rest_framework import serializers

from api.serializers.flat_lists import FlatListSerializer
from wallet.models import CardStatus, ReconciliationIssue


class WalletBalanceOutput(serializers.Serializer):
    balance = serializers.IntegerField(help_text="Cents on the account.")
    held = serializers.IntegerField(help_text="Cents reserved by pending, unexpired holds.")
    available = serializers.IntegerField(help_text="Cents that can be spent: balance minus held.")
    currency = serializers.CharField(help_text="ISO 4217 code; always AUD today.")


class StatementQueryInput(serializers.Serializer):
    """`from` and `to` are Python keywords, so the fields are declared in get_fields."""

    def get_fields(self):
        return {
            "from": serializers.DateField(
                required=False, help_text="First local day to include (YYYY-MM-DD), inclusive."
            ),
            "to": serializers.DateField(required=False, help_text="Last local day to include (YYYY-MM-DD), inclusive."),
        }

    def validate(self, attrs):
        if "from" in attrs and "to" in attrs and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": "Must be on or after `from`."}, code="date_range_inverted")
        return attrs


class StatementEntryOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="Entry id; statements are ordered by it, newest first.")
    created_at = serializers.DateTimeField()
    amount = serializers.IntegerField(help_text="Signed cents: positive money in, negative money out.")
    balance_after = serializers.IntegerField(help_text="The account's balance right after this entry, cents.")
    kind = serializers.CharField(help_text="What moved the money, e.g. `card_charge`.")
    memo = serializers.CharField()
    transaction_id = serializers.IntegerField()

    class Meta:
        list_serializer_class = FlatListSerializer  # fifty plain rows a page (api/serializers/flat_lists.py)


class StudentCardLiveOutput(serializers.Serializer):
    id = serializers.IntegerField()
    last4 = serializers.CharField(source="identifier_last4")
    status = serializers.ChoiceField(choices=CardStatus.choices)
    issued_at = serializers.DateTimeField()
    status_changed_at = serializers.DateTimeField()


class StudentCardControlsOutput(serializers.Serializer):
    daily_cap = serializers.IntegerField(allow_null=True, help_text="Cents a school day; null is no cap.")
    weekly_cap = serializers.IntegerField(allow_null=True, help_text="Cents a school week; null is no cap.")
    banned_categories = serializers.ListField(child=serializers.CharField())
    low_balance_threshold = serializers.IntegerField(allow_null=True)


class StudentCardSummaryOutput(serializers.Serializer):
    student_id = serializers.IntegerField(source="student.pk")
    balance = serializers.IntegerField(source="balance.balance")
    held = serializers.IntegerField(source="balance.held")
    available = serializers.IntegerField(source="balance.available")
    currency = serializers.CharField(source="balance.currency")
    card = StudentCardLiveOutput(
        allow_null=True, help_text="The live (active or frozen) card, else the latest one; null if none was issued."
    )
    controls = StudentCardControlsOutput()
    spent_today = serializers.IntegerField(help_text="Net card spending (charges less refunds) this school day, cents.")
    spent_this_week = serializers.IntegerField(help_text="Net card spending this school week, cents.")
    day_starts_at = serializers.DateTimeField(help_text="Start of the school's local day, as UTC.")
    week_starts_at = serializers.DateTimeField(help_text="Start of the school's local week (its `week_starts_on`).")
    time_zone = serializers.CharField(source="student.school.time_zone")


class ReconciliationIssueQueryInput(serializers.Serializer):
    state = serializers.ChoiceField(
        choices=[("open", "open"), ("resolved", "resolved")],
        required=False,
        help_text="Only open (unresolved) or only resolved issues; both when omitted.",
    )


class ReconciliationIssueOutput(serializers.Serializer):
    id = serializers.IntegerField()
    run_at = serializers.DateTimeField()
    kind = serializers.CharField(
        help_text="One of: " + ", ".join(f"`{kind}`" for kind in ReconciliationIssue.Kind.values) + "."
    )
    account_id = serializers.IntegerField(allow_null=True)
    account_kind = serializers.CharField(source="account.kind", allow_null=True, default=None)
    transaction_id = serializers.IntegerField(allow_null=True)
    expected = serializers.IntegerField(allow_null=True, help_text="What the source of truth says, cents.")
    actual = serializers.IntegerField(allow_null=True, help_text="What was found, cents.")
    detail = serializers.CharField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class ReconciliationRunOutput(serializers.Serializer):
    checked_transactions = serializers.IntegerField()
    checked_accounts = serializers.IntegerField()
    issues_found = serializers.IntegerField(help_text="Mismatches seen by this run, including ones already open.")
    new_issues = serializers.IntegerField(help_text="Mismatches recorded as new issues by this run.")
    ok = serializers.BooleanField(help_text="True when the run found no mismatch at all.")
