"""A guardian's saved card: `wallet/payment-method` reads it (api/views/payments.py) and removes it (here)."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.response import Response

from api.schema import problems
from api.serializers.saved_cards import PaymentMethodRemovedOutput
from api.views.payments import GATEWAY_PROBLEMS, TAG_WALLET, PaymentMethodView, gateway_errors_as_503
from guardians.selectors import guardian_for_user
from wallet import saved_cards


class SavedCardView(PaymentMethodView):
    @extend_schema(
        operation_id="payment_method_remove",
        tags=[TAG_WALLET],
        summary="Remove my saved card",
        description="Detaches the card at Stripe and forgets it here: it is no longer offered and never charged "
        "again. Only your own card can be removed (there is no card id to name). Automatic top-up needs a saved card, "
        "so if it was on it is switched off, you are notified (`auto_topup_disabled`) and the answer says so; an "
        "automatic top-up queued but not yet sent to Stripe is then not made. 404 `payment_method_not_found` when no "
        "card is saved (also on a second removal); 409 `payment_method_changed` if a new card was saved meanwhile; "
        "503 `payment_gateway_unavailable` if Stripe could not be reached (nothing changed: retry).",
        request=None,
        responses={
            200: PaymentMethodRemovedOutput,
            **problems(403, {404: ["payment_method_not_found"], 409: ["payment_method_changed"]}, GATEWAY_PROBLEMS),
        },
        examples=[
            OpenApiExample("Removed", value={"brand": "visa", "last4": "4242", "auto_topup_disabled": True}, response_only=True)
        ],
    )
    @gateway_errors_as_503
    def delete(self, request):
        removed = saved_cards.payment_method_remove(guardian=guardian_for_user(request.user))
        return Response(PaymentMethodRemovedOutput(removed).data)
