#!/usr/bin/env python3
"""Print the stable error codes as the Markdown table in docs/api.md ("Error codes").

    python scripts/error_codes.py > /tmp/codes.md    # then paste over the table

Domain codes are read from every `errors.py` (the class attribute `code = "..."`, its
default message, and the HTTP status its kind maps to in api/errors.py); codes the HTTP
layer itself produces are listed below. Stdlib only: it parses, never imports, the code.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AREAS = {"guardians": "People, links, sessions", "wallet": "Wallet, cards, top-ups", "canteen": "Canteen",
         "vouchers": "Vouchers", "events": "Events", "webhooks": "Outbound webhooks"}
KIND_STATUS = {"NotFoundError": 404, "ConflictError": 409, "ForbiddenError": 403, "PaymentRefusedError": 402}
SPECIAL_STATUS = {"session_revoked": 401}
HTTP_LAYER = [
    (400, "validation_error", "A field is missing or invalid; `errors` lists `{field, code, message}`."),
    (400, "phone_invalid", "A field code in `validation_error`'s `errors`: not a valid phone number (Australian, or any with +country code)."),
    (400, "postcode_invalid", "A field code in `validation_error`'s `errors`: not an Australian postcode (0200-0299, 0800-9999)."),
    (400, "malformed_request", "The body is not valid JSON, or holds a number or a string we cannot store (see above)."),
    (400, "body_too_deep", "The body nests arrays and objects more than 32 levels deep."),
    (400, "invalid_cursor", "The `cursor` is not one a page of this list gave out; start again without it."),
    (400, "idempotency_key_required", "A money-moving POST came without an `Idempotency-Key`."),
    (400, "idempotency_key_invalid", "The key is not 1 to 255 visible ASCII characters."),
    (401, "not_authenticated", "No credentials were sent."),
    (401, "authentication_failed", "The credentials were not accepted."),
    (401, "invalid_credentials", "Sign-in: the email or password is wrong."),
    (401, "token_invalid", "The access or refresh token is malformed, tampered with or expired."),
    (401, "terminal_key_invalid", "The `X-Terminal-Key` is unknown or revoked."),
    (403, "permission_denied", "This kind of caller may not use the operation."),
    (404, "not_found", "No such object, or not one the caller may see."),
    (405, "method_not_allowed", "The path exists but not with this method."),
    (409, "idempotency_request_in_progress", "The first request with this key is still running; retry after `Retry-After`."),
    (409, "terminal_key_already_shown", "A replay of a request that issued a terminal key: the key was shown only in the first answer; rotate it if lost."),
    (413, "payload_too_large", "The body is larger than the server accepts (1 MiB)."),
    (415, "unsupported_media_type", "Send `Content-Type: application/json`."),
    (422, "idempotency_key_reused", "The key was used before with a different request."),
    (429, "throttled", "Too many attempts; retry after `Retry-After` seconds."),
    (500, "internal_error", "Our fault; the `X-Request-ID` helps us find it."),
    (503, "database_unavailable", "The database could not be reached; nothing was saved. Retry after `Retry-After`."),
    (503, "database_timeout", "The request ran out of time in the database and was rolled back. Retry after `Retry-After`."),
    (503, "payment_gateway_unavailable", "Stripe could not be reached; nothing was charged. Retry with the same key."),
]


def domain_codes(path: Path):
    tree = ast.parse(path.read_text())
    statuses: dict[str, int] = {}
    for node in tree.body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields = {}
        for item in node.body:
            if isinstance(item, ast.Assign) and isinstance(item.targets[0], ast.Name):
                try:
                    fields[item.targets[0].id] = ast.literal_eval(item.value)
                except ValueError:
                    pass
        bases = [getattr(base, "id", getattr(base, "attr", "")) for base in node.bases]
        status = next((KIND_STATUS[b] for b in bases if b in KIND_STATUS), None) or next(
            (statuses[b] for b in bases if b in statuses), 422
        )
        statuses[node.name] = KIND_STATUS.get(node.name, status)
        code = fields.get("code")
        if code and node.name not in KIND_STATUS and node.name != "DomainError":
            yield SPECIAL_STATUS.get(code, statuses[node.name]), code, fields.get("default_message", "")


def main():
    print("| area | status | code | meaning |\n| --- | --- | --- | --- |")
    for status, code, meaning in HTTP_LAYER:
        print(f"| any | {status} | `{code}` | {meaning} |")
    files = sorted(ROOT.glob("*/errors.py")) + sorted(ROOT.glob("*/*/errors.py"))
    for path in files:
        area = AREAS.get(path.parent.name)
        if area is None:
            continue
        for status, code, meaning in sorted(domain_codes(path)):
            print(f"| {area} | {status} | `{code}` | {meaning} |")


if __name__ == "__main__":
    main()
