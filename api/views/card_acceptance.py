"""School admins decide which merchants may charge their students' cards."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import StaffWithRole
from api.schema import problems
from api.serializers.cards import CardAcceptanceOutput
from guardians import selectors
from guardians.models import StaffRole
from wallet import card_acceptance
from wallet.errors import CardAcceptanceNotFound
from wallet.models import CardAcceptance, Merchant

TAG = "Cards"
ACCEPTANCE_EXAMPLE = {"merchant_id": 1, "merchant_name": "Harbourside Canteen", "merchant_categories": ["canteen"], "enabled_at": "2026-11-28T03:00:00Z"}


class CardAcceptanceListView(GenericAPIView):
    permission_classes = [StaffWithRole(StaffRole.ADMIN)]
    queryset = CardAcceptance.objects.none()  # for the schema generator; requests use get_queryset

    def get_queryset(self):
        return card_acceptance.card_acceptances_for(selectors.staff_for_user(self.request.user).school)

    @extend_schema(
        operation_id="card_merchant_list",
        tags=[TAG],
        summary="Merchants that may charge my school's student cards",
        description="School admins only, the latest enabled first. Any other merchant's terminal gets `unknown_card` "
        "for this school's cards.",
        responses={200: CardAcceptanceOutput(many=True), **problems(403)},
        examples=[OpenApiExample("Enabled", value=[ACCEPTANCE_EXAMPLE], response_only=True)],
    )
    def get(self, request):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(CardAcceptanceOutput(page, many=True).data)


class CardAcceptanceDetailView(APIView):
    permission_classes = [StaffWithRole(StaffRole.ADMIN)]

    @extend_schema(
        operation_id="card_merchant_enable",
        tags=[TAG],
        summary="Let a merchant charge my school's student cards",
        description="School admins only. Takes effect from the next tap. Enabling an enabled merchant changes nothing. "
        "Independent merchants and the school's own may be enabled; another school's merchant is `not_found`.",
        request=None,
        responses={200: CardAcceptanceOutput, **problems(403, 404)},
        examples=[OpenApiExample("Enabled", value=ACCEPTANCE_EXAMPLE, response_only=True)],
    )
    def put(self, request, merchant_id: int):
        school = selectors.staff_for_user(request.user).school
        merchant = get_object_or_404(card_acceptance.merchants_a_school_may_enable(school), pk=merchant_id)
        row = card_acceptance.card_acceptance_enable(school=school, merchant=merchant, enabled_by=request.user)
        return Response(CardAcceptanceOutput(row).data)

    @extend_schema(
        operation_id="card_merchant_disable",
        tags=[TAG],
        summary="Stop a merchant charging my school's student cards",
        description="School admins only. From the next tap the merchant's terminals get `unknown_card` for this "
        "school's cards; it can still refund its own earlier charges, which only returns the child's money.",
        request=None,
        responses={204: None, **problems(403, {404: ["card_acceptance_not_found"]})},
        examples=[OpenApiExample("No body", value=None, response_only=True, status_codes=["204"])],
    )
    def delete(self, request, merchant_id: int):
        school = selectors.staff_for_user(request.user).school
        merchant = Merchant.objects.filter(pk=merchant_id).first()
        if merchant is None:
            raise CardAcceptanceNotFound()
        card_acceptance.card_acceptance_disable(school=school, merchant=merchant, disabled_by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
