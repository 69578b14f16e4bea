"""Vouchers as their holders see them: the list, one voucher, its live code and QR images;
and the public keys terminals verify codes with."""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api.permissions import IsPerson
from api.schema import problems
from api.serializers.vouchers import (
    VoucherCodeOutput,
    VoucherCodeQueryInput,
    VoucherDetailOutput,
    VoucherKeysOutput,
    VoucherOutput,
)
from api.throttles import FailOpenRateThrottle
from api.views.vouchers import STATE_CODES, TAG_HOLDERS, VOUCHER_EXAMPLE
from core import clock
from core.money import format_dollars
from vouchers import codes, numbers, qr, selectors, tokens
from vouchers.models import Voucher

CODE_EXAMPLE = {
    "payload": "TBV1.AEBAEZDFO4WTKMZVGM3DEMRQGAYD....48213377",
    "style": "rotating",
    "number": "7KQ2M-9XD4R-TA0B5",
    "refresh_at": "2026-04-21T06:10:30Z",
    "valid_until": "2026-04-21T06:11:00Z",
}
TOKEN_FORMAT = (
    "TBV1.<base32(body || signature)>[.<8-digit code>]; body = version(1) | mode(1: app, 2: printed) | "
    "kid length(1) | kid | voucher number (9 bytes, big-endian, 70 bits); signature = Ed25519 over "
    "'tuckbox-voucher-token-v1\\x00' || body."
)
STYLE_PARAMETER = OpenApiParameter(
    "style",
    str,
    enum=list(codes.STYLES),
    required=False,
    description="`rotating` (default): the app's code, which changes every 30 seconds. `printed`: a static code "
    "for paper, accepted only together with the beneficiary's date of birth.",
)


def held_voucher(request, voucher_id: int) -> Voucher:
    """One of the caller's vouchers, or 404 (another family's voucher might as well not exist)."""
    return get_object_or_404(selectors.vouchers_held_by(request.user), pk=voucher_id)


class VoucherListView(GenericAPIView):
    permission_classes = [IsPerson]
    queryset = Voucher.objects.none()  # for the schema generator
    filter_backends = []

    @extend_schema(
        operation_id="voucher_list",
        tags=[TAG_HOLDERS],
        summary="My vouchers",
        description="The vouchers I hold (for my children, or for myself), newest first. `state` is judged now: "
        "a voucher past its last day shows `expired`.",
        responses={200: VoucherOutput(many=True), **problems(403)},
        examples=[OpenApiExample("Voucher", value=VOUCHER_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.vouchers_held_by(request.user))
        return self.get_paginated_response(VoucherOutput(page, many=True).data)


class VoucherDetailView(APIView):
    permission_classes = [IsPerson]

    @extend_schema(
        operation_id="voucher_retrieve",
        tags=[TAG_HOLDERS],
        summary="One of my vouchers, with where it was used",
        description="Its value, what is left (and what a single-use voucher forfeited), its state judged now, and each "
        "redemption: where, how much, and whether it was voided. Another family's voucher is 404.",
        responses={200: VoucherDetailOutput, **problems(403, 404)},
        examples=[
            OpenApiExample(
                "Used in part",
                value={
                    **VOUCHER_EXAMPLE,
                    "remaining_value": 0,
                    "forfeited_value": 1500,
                    "state": "redeemed",
                    "history": [
                        {"redemption_id": 88, "merchant_name": "Harbourside Swim Club", "amount": 8500, "forfeited_amount": 1500, "created_at": "2026-04-21T06:10:00Z", "voided_at": None}
                    ],
                },
                response_only=True,
            )
        ],
    )
    def get(self, request, voucher_id: int):
        voucher = held_voucher(request, voucher_id)
        voucher.history = selectors.voucher_history(voucher)
        return Response(VoucherDetailOutput(voucher).data)


def _shown_code(request, voucher_id: int):
    query = VoucherCodeQueryInput(data=request.query_params)
    query.is_valid(raise_exception=True)
    voucher = held_voucher(request, voucher_id)
    return voucher, codes.code_for(voucher=voucher, style=query.validated_data["style"], now=clock.now())


class VoucherCodeView(APIView):
    permission_classes = [IsPerson]

    @extend_schema(
        operation_id="voucher_code_retrieve",
        tags=[TAG_HOLDERS],
        summary="The code to show a provider",
        description="The QR payload: a signed token naming the voucher and, for the app's rotating code, a "
        "time-based code that changes every 30 seconds (a screenshot stops working within a minute or so). Fetch "
        "again at `refresh_at`. A voucher that cannot be spent gets no code.",
        parameters=[STYLE_PARAMETER],
        responses={200: VoucherCodeOutput, **problems(400, 403, 404, {409: STATE_CODES})},
        examples=[OpenApiExample("Rotating", value=CODE_EXAMPLE, response_only=True)],
    )
    def get(self, request, voucher_id: int):
        voucher, shown = _shown_code(request, voucher_id)
        response = Response(
            VoucherCodeOutput(
                {"payload": shown.payload, "style": shown.style, "number": numbers.formatted(voucher.number), "refresh_at": shown.refresh_at, "valid_until": shown.valid_until}
            ).data
        )
        response["Cache-Control"] = "no-store"
        return response


def _image_view(kind: str, media_type: str):
    class VoucherImageView(APIView):
        permission_classes = [IsPerson]

        def perform_content_negotiation(self, request, force=False):
            # The body is an image whatever the Accept header says; errors stay problem+json.
            return super().perform_content_negotiation(request, force=True)

        @extend_schema(
            operation_id=f"voucher_qr_{kind}",
            tags=[TAG_HOLDERS],
            summary=f"The code as a {kind.upper()} image",
            description="A QR code sized for a phone screen (about 720 px wide), the voucher number printed under "
            "it. Rotating images change every 30 seconds, like the code; they are never cached.",
            parameters=[STYLE_PARAMETER],
            responses={
                (200, media_type): OpenApiResponse(response=OpenApiTypes.BINARY, description=f"A {kind.upper()} image."),
                **problems(400, 403, 404, {409: STATE_CODES}),
            },
        )
        def get(self, request, voucher_id: int):
            voucher, shown = _shown_code(request, voucher_id)
            caption = numbers.formatted(voucher.number)
            subcaption = f"{voucher.program.name} · ${format_dollars(voucher.remaining_value)} · {voucher.beneficiary_first_name}"
            if kind == "png":
                body = qr.png(payload=shown.payload, caption=caption, subcaption=subcaption)
            else:
                body = qr.svg(payload=shown.payload, caption=caption, subcaption=subcaption)
            response = HttpResponse(body, content_type=media_type)
            response["Cache-Control"] = "no-store" if shown.style == codes.ROTATING else "private, max-age=300"
            return response

    VoucherImageView.__name__ = f"VoucherQr{kind.title()}View"
    return VoucherImageView


VoucherQrPngView = _image_view("png", "image/png")
VoucherQrSvgView = _image_view("svg", "image/svg+xml")


class VoucherKeysThrottle(FailOpenRateThrottle):
    scope = "voucher_keys"
    rate = "120/min"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class VoucherKeysView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [VoucherKeysThrottle]

    @extend_schema(
        operation_id="voucher_keys_retrieve",
        tags=[TAG_HOLDERS],
        summary="Keys to verify voucher codes offline",
        description="Ed25519 public keys as JWKs (RFC 8037), the active one first; retired keys stay listed while "
        "codes they signed are honoured. A terminal may check a scanned code's signature offline to spot a forged "
        "one at once, but a voucher is redeemed only when the server confirms it. Public.",
        responses={200: VoucherKeysOutput, **problems(429)},
        examples=[
            OpenApiExample(
                "Keys",
                value={
                    "keys": [{"kid": "k2026a", "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig", "x": "C1Pvrj6sFEmkKZ-PpDRv9EqdwWlgH4rdx4nzaoliRCo", "status": "active"}],
                    "token_format": TOKEN_FORMAT,
                },
                response_only=True,
            )
        ],
    )
    def get(self, request):
        response = Response(VoucherKeysOutput({"keys": tokens.public_keys(), "token_format": TOKEN_FORMAT}).data)
        response["Cache-Control"] = "public, max-age=3600"
        return response

