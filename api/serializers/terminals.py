from rest_framework import serializers

LABEL_HELP = "What the merchant calls it: the counter, the till, the tablet at the pool desk."


class TerminalRegisterInput(serializers.Serializer):
    label = serializers.CharField(max_length=80, help_text=LABEL_HELP)


class TerminalUpdateInput(serializers.Serializer):
    label = serializers.CharField(max_length=80, help_text=LABEL_HELP)


class MerchantTerminalOutput(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    key_prefix = serializers.CharField(help_text="The public part of the key (`tbx_term_<prefix>_...`), to tell keys apart.")
    is_active = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    key_rotated_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    last_used_at = serializers.DateTimeField(
        allow_null=True, help_text="When the key last authenticated a request, to the minute; null if never."
    )


class MerchantTerminalKeyOutput(MerchantTerminalOutput):
    key = serializers.CharField(help_text="Shown only now, never again (only a hash is kept): enter it in the terminal.")
