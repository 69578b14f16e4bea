"""Helpers so every operation documents its errors the same way.

    @extend_schema(responses={201: LinkOutput, **problems(400, 404, {409: ["already_linked"]})})

Each error response is an RFC 9457 problem; its description lists the stable codes.
"""

from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, inline_serializer
from rest_framework import serializers

# Codes that a status carries on most endpoints, used when a view names only the status.
DEFAULT_CODES = {
    400: ["validation_error", "malformed_request"],
    401: ["not_authenticated", "authentication_failed", "token_invalid", "session_revoked"],
    402: ["payment_refused"],
    403: ["permission_denied"],
    404: ["not_found"],
    409: ["conflict"],
    413: ["payload_too_large"],
    422: ["domain_error"],
    429: ["throttled"],
}


class FieldErrorSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True, help_text="Dotted path of the offending field; null for the whole body.")
    code = serializers.CharField()
    message = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    type = serializers.URLField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    detail = serializers.CharField()
    code = serializers.CharField(help_text="Stable snake_case error code; switch on this, not on `detail`.")
    errors = FieldErrorSerializer(many=True, required=False, help_text="Present for validation_error.")
    details = serializers.DictField(required=False, help_text="Machine-readable specifics of a domain error.")

    class Meta:
        ref_name = "Problem"


def problems(*spec) -> dict:
    """Build error responses: ints use DEFAULT_CODES, dicts map a status to its codes."""
    codes: dict[int, list[str]] = {}
    for item in spec:
        if isinstance(item, int):
            codes.setdefault(item, []).extend(DEFAULT_CODES[item])
        else:
            for status, status_codes in item.items():
                codes.setdefault(status, []).extend(status_codes)
    return {
        status: OpenApiResponse(
            response=ProblemSerializer,
            description="Error codes: " + ", ".join(f"`{c}`" for c in dict.fromkeys(status_codes)),
            examples=[
                OpenApiExample(
                    f"{status_codes[0]}",
                    value={
                        "type": f"https://tuckbox.dev/problems/{status_codes[0]}",
                        "title": status_codes[0].replace("_", " ").capitalize(),
                        "status": status,
                        "detail": "A human-readable explanation.",
                        "code": status_codes[0],
                    },
                    response_only=True,
                    status_codes=[str(status)],
                )
            ],
        )
        for status, status_codes in sorted(codes.items())
    }


IDEMPOTENCY_HEADER_REQUIRED = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=True,
    type=str,
    description="Unique per intended operation (a UUID v4 is ideal). A retry with the same key and body "
    "replays the first response; with a different body it is refused (422 idempotency_key_reused).",
)
IDEMPOTENCY_HEADER_OPTIONAL = OpenApiParameter(
    name="Idempotency-Key",
    location=OpenApiParameter.HEADER,
    required=False,
    type=str,
    description="Optional: makes a retry safe. Same semantics as on money endpoints.",
)
IDEMPOTENCY_PROBLEMS = {400: ["idempotency_key_invalid"], 409: ["idempotency_request_in_progress"], 422: ["idempotency_key_reused"]}
IDEMPOTENCY_REQUIRED_PROBLEMS = {**IDEMPOTENCY_PROBLEMS, 400: ["idempotency_key_required", "idempotency_key_invalid"]}

__all__ = [
    "OpenApiExample",
    "inline_serializer",
    "problems",
    "ProblemSerializer",
    "IDEMPOTENCY_HEADER_REQUIRED",
    "IDEMPOTENCY_HEADER_OPTIONAL",
    "IDEMPOTENCY_PROBLEMS",
    "IDEMPOTENCY_REQUIRED_PROBLEMS",
]
