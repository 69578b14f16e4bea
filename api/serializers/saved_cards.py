from rest_framework import serializers


class PaymentMethodRemovedOutput(serializers.Serializer):
    brand = serializers.CharField(help_text="The card that was removed.")
    last4 = serializers.CharField()
    auto_topup_disabled = serializers.BooleanField(
        help_text="true when automatic top-up was on: it has been switched off (and you were notified), since it "
        "needs a saved card. Its threshold and amount are kept for when a new card is saved."
    )
