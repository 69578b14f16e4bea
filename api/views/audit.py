"""The audit log: a school's admins read their school's rows, platform staff all of them."""

from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework.generics import GenericAPIView, get_object_or_404
from rest_framework.response import Response

from api.pagination import CursorPage
from api.permissions import ReadsAuditLog
from api.schema import problems
from api.serializers.audit import AuditEntryOutput, AuditLogQueryInput
from audit.models import AuditEntry
from audit.selectors import audit_entries_visible_to

TAG_AUDIT = "Audit log"

AUDIT_ENTRY_EXAMPLE = {
    "id": 4812,
    "occurred_at": "2026-12-01T23:41:07Z",
    "actor": {"kind": "school_staff", "user_id": 31, "roles": ["canteen"], "terminal_id": None, "merchant_id": None},
    "action": "canteen.order_refund",
    "object_type": "canteen.order",
    "object_id": "9120",
    "school_id": 1,
    "program_id": None,
    "before": {"status": "fulfilled"},
    "after": {"status": "refunded"},
    "details": {"amount": 650, "refund_transaction_id": 77120, "receipt_number": "HBS-20261202-0042"},
    "request": {"id": "b6f7a1c2d3e4f5061728394a5b6c7d8e", "ip_address": "203.0.113.24", "user_agent": "TuckboxStaff/2.3 (iPad)"},
    "capture": "service",
}

FILTERS = {
    "occurred_from": "occurred_at__gte",
    "occurred_to": "occurred_at__lt",
    "actor_user_id": "actor_user_id",
    "actor_terminal_id": "actor_terminal_id",
    "action": "action",
    "object_type": "object_type",
    "object_id": "object_id",
    "school_id": "school_id",
}


class AuditLogListView(GenericAPIView):
    permission_classes = [ReadsAuditLog]
    queryset = AuditEntry.objects.none()  # for the schema generator; requests use the selector
    pagination_class = CursorPage
    filter_backends = []

    @extend_schema(
        operation_id="audit_log_list",
        tags=[TAG_AUDIT],
        summary="Audit log",
        description="What staff, administrators and terminals changed, newest first: who (user and roles, or "
        "terminal), what (action, object), when, from where (IP address, user agent, request id) and the changed "
        "fields before and after, with secrets redacted. A school's admins see their school's rows; platform staff "
        "see every row and may filter by `school_id`. The log is append-only.",
        parameters=[AuditLogQueryInput],
        responses={200: AuditEntryOutput(many=True), **problems(400, 403)},
        examples=[OpenApiExample("A staff refund", value=AUDIT_ENTRY_EXAMPLE, response_only=True)],
    )
    def get(self, request):
        query = AuditLogQueryInput(data=request.query_params)
        query.is_valid(raise_exception=True)
        lookups = {FILTERS[name]: value for name, value in query.validated_data.items()}
        page = self.paginate_queryset(audit_entries_visible_to(request.user).filter(**lookups))
        return self.get_paginated_response(AuditEntryOutput(page, many=True).data)


class AuditLogDetailView(GenericAPIView):
    permission_classes = [ReadsAuditLog]
    queryset = AuditEntry.objects.none()

    @extend_schema(
        operation_id="audit_log_retrieve",
        tags=[TAG_AUDIT],
        summary="One audit log row",
        description="A row of the audit log the caller may read; another school's row is a 404.",
        responses={200: AuditEntryOutput, **problems(403, 404)},
        examples=[OpenApiExample("A staff refund", value=AUDIT_ENTRY_EXAMPLE, response_only=True)],
    )
    def get(self, request, entry_id: int):
        entry = get_object_or_404(audit_entries_visible_to(request.user), pk=entry_id)
        return Response(AuditEntryOutput(entry).data)
