from rest_framework import serializers

from core.models_webhooks import WebhookDelivery
from core.webhooks.event_types import EVENT_TYPE_CHOICES, EVENT_TYPES, PROGRAM, SCHOOL


def event_type_field():
    return serializers.ChoiceField(choices=EVENT_TYPE_CHOICES)


class WebhookSubscriptionCreateInput(serializers.Serializer):
    url = serializers.URLField(max_length=500, help_text="Where we POST events: https in production, public addresses only.")
    event_types = serializers.ListField(child=event_type_field(), min_length=1, max_length=len(EVENT_TYPES))
    description = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)
    program_id = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text="Program administrators: the voucher program whose events to receive. School admins leave it out: "
        "their subscription receives their school's events.",
    )


class WebhookSubscriptionUpdateInput(serializers.Serializer):
    url = serializers.URLField(max_length=500, required=False)
    event_types = serializers.ListField(child=event_type_field(), min_length=1, max_length=len(EVENT_TYPES), required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    is_active = serializers.BooleanField(
        required=False, help_text="false pauses deliveries (pending ones are cancelled); true resumes, also after a 410."
    )


class WebhookSubscriptionOutput(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.CharField()
    description = serializers.CharField()
    event_types = serializers.ListField(child=serializers.CharField())
    scope = serializers.SerializerMethodField(help_text="`school` or `program`: whose events it receives.")
    school_id = serializers.IntegerField(allow_null=True)
    program_id = serializers.IntegerField(allow_null=True)
    is_active = serializers.BooleanField()
    disabled_at = serializers.DateTimeField(allow_null=True)
    disabled_reason = serializers.CharField(help_text="Empty while active; `gone`: the endpoint answered 410; `by_user`: paused.")
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until then deliveries are also signed with the secret before the last rotation."
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_scope(self, subscription) -> str:
        return SCHOOL if subscription.school_id else PROGRAM


class WebhookSubscriptionSecretOutput(WebhookSubscriptionOutput):
    secret = serializers.CharField(help_text="Shown only now: store it to verify `webhook-signature` (Standard Webhooks, `whsec_` + base64).")


class WebhookSecretRotateInput(serializers.Serializer):
    grace_period_hours = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=168,
        help_text="How long the old secret keeps signing too (default 24). 0 ends it at once, e.g. after a leak.",
    )


class WebhookDeliveryAttemptOutput(serializers.Serializer):
    number = serializers.IntegerField(min_value=1)
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField(min_value=0)
    response_status = serializers.IntegerField(allow_null=True)
    response_body_excerpt = serializers.CharField()
    error = serializers.CharField(help_text="Why no response came back (timeout, connection refused, ...); empty if one did.")


class WebhookDeliveryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    event_id = serializers.UUIDField()
    event_type = serializers.CharField(source="event.type")
    event_data = serializers.DictField(source="event.data", help_text="The `data` of the event as delivered.")
    status = serializers.ChoiceField(choices=WebhookDelivery.Status.choices)
    attempts = serializers.IntegerField(min_value=0)
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_attempt_at = serializers.DateTimeField(allow_null=True)
    response_status = serializers.IntegerField(allow_null=True, help_text="Of the last attempt.")
    response_body_excerpt = serializers.CharField(help_text="Start of the body of the last response.")
    last_error = serializers.CharField()
    delivered_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    attempt_log = WebhookDeliveryAttemptOutput(many=True)


class WebhookPingOutput(serializers.Serializer):
    event_id = serializers.UUIDField()
    delivery = WebhookDeliveryOutput()


class WebhookEventTypeOutput(serializers.Serializer):
    name = serializers.CharField()
    scope = serializers.CharField(help_text="Who may subscribe: `school` (school admins) or `program` (program administrators).")
    description = serializers.CharField()
    example = serializers.DictField(help_text="An example of the event's `data`.")
