"""A merchant administrator's terminals: register, rename, list with last use, rotate the key, revoke.

Keys are shown once, in the answer that issues them. A replay of that POST (the same Idempotency-Key)
answers 409 `terminal_key_already_shown` naming the terminal, and neither mints nor shows a key: the
idempotency store keeps that answer, never the key (api/idempotency.py, `replay_with`).
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import problem_response
from api.idempotency import idempotent
from api.permissions import IsMerchantAdministrator
from api.schema import IDEMPOTENCY_HEADER_OPTIONAL, IDEMPOTENCY_PROBLEMS, problems
from api.serializers.terminals import (
    MerchantTerminalKeyOutput,
    MerchantTerminalOutput,
    TerminalRegisterInput,
    TerminalUpdateInput,
)
from wallet import terminal_keys
from wallet.models import Terminal
from wallet.selectors import terminals_of_merchant

TAG = "Terminals"
KEY_SHOWN_CODES = {409: ["terminal_key_already_shown"]}
REVOKED_CODES = {409: ["terminal_revoked"]}
TERMINAL_EXAMPLE = {
    "id": 3,
    "label": "Counter 2",
    "key_prefix": "9f2c41d07a5b",
    "is_active": True,
    "created_at": "2026-11-28T03:00:00Z",
    "key_rotated_at": None,
    "revoked_at": None,
    "last_used_at": "2026-11-30T01:12:00Z",
}
KEY_EXAMPLE = "tbx_term_9f2c41d07a5b_Xq1nS7lB0y2w3c9ZkP4dF6hJ8mR5tV1aE0uQ2gW7o3I"


def _admin(request):
    return request.user.merchant_admin


def _terminal(request, terminal_id: int) -> Terminal:
    """One of the caller's merchant's terminals, or 404: another merchant's might as well not exist."""
    return get_object_or_404(terminals_of_merchant(_admin(request).merchant_id), pk=terminal_id)


def _with_key(terminal: Terminal, raw_key: str, *, status_code: int, verb: str) -> Response:
    response = Response(MerchantTerminalKeyOutput({**_fields(terminal), "key": raw_key}).data, status=status_code)
    response.replay_with = problem_response(
        status_code=409,
        code="terminal_key_already_shown",
        title="Terminal key already shown",
        detail=f"This request already {verb} terminal {terminal.pk}; its key was shown only in that answer. "
        "If it was lost, rotate the key (POST .../rotate-key).",
        terminal_id=terminal.pk,
    )
    return response


def _fields(terminal: Terminal) -> dict:
    return MerchantTerminalOutput(terminal).data


class MerchantTerminalListView(GenericAPIView):
    permission_classes = [IsMerchantAdministrator]
    queryset = Terminal.objects.none()  # for the schema generator; requests use terminals_of_merchant

    @extend_schema(
        operation_id="merchant_terminal_list",
        tags=[TAG],
        summary="My merchant's terminals",
        description="Every terminal of the merchant you administer, newest first, revoked ones included, with when "
        "each key last authenticated a request (`last_used_at`, to the minute). Keys are never shown here.",
        responses={200: MerchantTerminalOutput(many=True), **problems(403)},
        examples=[OpenApiExample("Terminals", value=TERMINAL_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        page = self.paginate_queryset(terminals_of_merchant(_admin(request).merchant_id))
        return self.get_paginated_response(MerchantTerminalOutput(page, many=True).data)

    @extend_schema(
        operation_id="merchant_terminal_register",
        tags=[TAG],
        summary="Register a terminal",
        description="Creates a terminal of your merchant and returns its API key (`X-Terminal-Key`), shown only in "
        "this answer; only a hash is kept. A retry with the same `Idempotency-Key` creates nothing and answers 409 "
        "`terminal_key_already_shown` with the `terminal_id` the first request created: the key is not shown "
        "again, so rotate it if it was lost.",
        request=TerminalRegisterInput,
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        responses={201: MerchantTerminalKeyOutput, **problems(400, 403, KEY_SHOWN_CODES, IDEMPOTENCY_PROBLEMS)},
        examples=[
            OpenApiExample("Register", value={"label": "Counter 2"}, request_only=True),
            OpenApiExample("Registered", value={**TERMINAL_EXAMPLE, "last_used_at": None, "key": KEY_EXAMPLE}, response_only=True, status_codes=["201"]),
        ],
    )
    @idempotent(required=False)
    def post(self, request):
        data = TerminalRegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        admin = _admin(request)
        terminal, raw_key = terminal_keys.terminal_register(merchant=admin.merchant, label=data.validated_data["label"], by=admin)
        return _with_key(terminal, raw_key, status_code=status.HTTP_201_CREATED, verb="registered")


class MerchantTerminalDetailView(APIView):
    permission_classes = [IsMerchantAdministrator]

    @extend_schema(
        operation_id="merchant_terminal_retrieve",
        tags=[TAG],
        summary="Get a terminal",
        description="One of your merchant's terminals (never its key). Another merchant's is a 404.",
        responses={200: MerchantTerminalOutput, **problems(403, 404)},
        examples=[OpenApiExample("Terminal", value=TERMINAL_EXAMPLE, response_only=True)],
    )
    def get(self, request, terminal_id: int):
        return Response(_fields(_terminal(request, terminal_id)))

    @extend_schema(
        operation_id="merchant_terminal_update",
        tags=[TAG],
        summary="Rename a terminal",
        description="Changes the `label`; the key is unchanged. A revoked terminal answers 409 `terminal_revoked`.",
        request=TerminalUpdateInput,
        responses={200: MerchantTerminalOutput, **problems(400, 403, 404, REVOKED_CODES)},
        examples=[
            OpenApiExample("Rename", value={"label": "Counter 2 (by the window)"}, request_only=True),
            OpenApiExample("Terminal", value={**TERMINAL_EXAMPLE, "label": "Counter 2 (by the window)"}, response_only=True),
        ],
    )
    def patch(self, request, terminal_id: int):
        terminal = _terminal(request, terminal_id)
        data = TerminalUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        terminal = terminal_keys.terminal_rename(terminal=terminal, label=data.validated_data["label"], by=_admin(request))
        return Response(_fields(terminal))


class MerchantTerminalRotateKeyView(APIView):
    permission_classes = [IsMerchantAdministrator]

    @extend_schema(
        operation_id="merchant_terminal_rotate_key",
        tags=[TAG],
        summary="Rotate a terminal's key",
        description="Issues a new key, shown only in this answer, and the old key stops working at once: there is no "
        "overlap, since a key is mostly rotated because it leaked or a device went missing, and the new key is "
        "entered at the terminal. A retry with the same `Idempotency-Key` rotates nothing and answers 409 "
        "`terminal_key_already_shown`; rotate again (with a new key) if the answer was lost. A revoked terminal "
        "answers 409 `terminal_revoked`.",
        request=None,
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        responses={200: MerchantTerminalKeyOutput, **problems(403, 404, {409: ["terminal_revoked", "terminal_key_already_shown"]}, IDEMPOTENCY_PROBLEMS)},
        examples=[
            OpenApiExample(
                "Rotated",
                value={**TERMINAL_EXAMPLE, "key_prefix": "41d07a5b9f2c", "key_rotated_at": "2026-11-30T02:00:00Z", "key": KEY_EXAMPLE},
                response_only=True,
            )
        ],
    )
    @idempotent(required=False)
    def post(self, request, terminal_id: int):
        terminal, raw_key = terminal_keys.terminal_key_rotate(terminal=_terminal(request, terminal_id), by=_admin(request))
        return _with_key(terminal, raw_key, status_code=status.HTTP_200_OK, verb="rotated the key of")


class MerchantTerminalRevokeView(APIView):
    permission_classes = [IsMerchantAdministrator]

    @extend_schema(
        operation_id="merchant_terminal_revoke",
        tags=[TAG],
        summary="Revoke a terminal",
        description="Takes effect at once: the next request with its key answers 401 `terminal_key_invalid`. The "
        "terminal stays in the list as history, and cannot be brought back (register a new one). Revoking a "
        "revoked terminal changes nothing.",
        request=None,
        parameters=[IDEMPOTENCY_HEADER_OPTIONAL],
        responses={200: MerchantTerminalOutput, **problems(403, 404, IDEMPOTENCY_PROBLEMS)},
        examples=[
            OpenApiExample("Revoked", value={**TERMINAL_EXAMPLE, "is_active": False, "revoked_at": "2026-11-30T02:00:00Z"}, response_only=True)
        ],
    )
    @idempotent(required=False)
    def post(self, request, terminal_id: int):
        terminal = terminal_keys.terminal_revoke(terminal=_terminal(request, terminal_id), by=_admin(request))
        return Response(_fields(terminal))
