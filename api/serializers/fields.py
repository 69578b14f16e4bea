"""Field types shared by every serializer."""

from rest_framework import serializers


class CentsField(serializers.IntegerField):
    """Money: a JSON integer of cents. Strings, floats and booleans are refused, never coerced."""

    default_error_messages = {"not_cents": "Must be a whole number of cents given as a JSON integer (e.g. 550 for $5.50)."}

    def __init__(self, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("help_text", "Integer cents (AUD).")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if type(data) is not int:
            self.fail("not_cents")
        return super().to_internal_value(data)
