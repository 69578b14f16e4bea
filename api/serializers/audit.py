from rest_framework import serializers

from audit.models import ActorKind, Capture


class AuditLogQueryInput(serializers.Serializer):
    occurred_from = serializers.DateTimeField(required=False, help_text="Only rows at or after this instant.")
    occurred_to = serializers.DateTimeField(required=False, help_text="Only rows before this instant.")
    actor_user_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    actor_terminal_id = serializers.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    action = serializers.CharField(required=False, max_length=80, help_text="Exact action name, e.g. `canteen.order_refund`.")
    object_type = serializers.CharField(required=False, max_length=60)
    object_id = serializers.CharField(required=False, max_length=64, help_text="With or without `object_type`.")
    school_id = serializers.IntegerField(
        required=False, min_value=1, max_value=2**63 - 1, help_text="Platform staff: one school's rows."
    )

    def validate(self, attrs):
        if "occurred_from" in attrs and "occurred_to" in attrs and attrs["occurred_to"] <= attrs["occurred_from"]:
            raise serializers.ValidationError({"occurred_to": "Must be after occurred_from."})
        return attrs


class AuditActorOutput(serializers.Serializer):
    kind = serializers.ChoiceField(source="actor_kind", choices=ActorKind.choices)
    user_id = serializers.IntegerField(source="actor_user_id", allow_null=True)
    roles = serializers.ListField(source="actor_roles", child=serializers.CharField())
    terminal_id = serializers.IntegerField(source="actor_terminal_id", allow_null=True)
    merchant_id = serializers.IntegerField(source="actor_merchant_id", allow_null=True)


class AuditRequestOutput(serializers.Serializer):
    id = serializers.CharField(source="request_id", help_text="The request's X-Request-ID; empty outside a request.")
    ip_address = serializers.IPAddressField(allow_null=True)
    user_agent = serializers.CharField()


class AuditEntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    actor = AuditActorOutput(source="*")
    action = serializers.CharField()
    object_type = serializers.CharField()
    object_id = serializers.CharField()
    school_id = serializers.IntegerField(allow_null=True)
    program_id = serializers.IntegerField(allow_null=True)
    before = serializers.DictField(help_text="The changed fields' values before the action (secrets redacted).")
    after = serializers.DictField(help_text="The changed fields' values after the action (secrets redacted).")
    details = serializers.DictField(help_text="Other facts of the action: amounts, ledger transaction ids, counts.")
    request = AuditRequestOutput(source="*")
    capture = serializers.ChoiceField(
        choices=Capture.choices,
        help_text="`service`: recorded with the change, in its transaction; `request`: a staff write no service "
        "recorded, captured after its answer (no values); `admin`: from a Django admin LogEntry.",
    )
