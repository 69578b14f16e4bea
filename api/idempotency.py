"""`Idempotency-Key` for POSTs that create or move things (Stripe's semantics, IETF draft).

- The key is scoped to the caller (a user or a terminal).
- The first response the handler produces is stored and replayed byte for byte, unless it names a
  stand-in (`replay_with`) because it carries a secret shown once.
- The same key with a different body answers 422 `idempotency_key_reused`.
- A retry while the first request still runs answers 409 `idempotency_request_in_progress`.
- A 5xx is not stored: the key is released so the client can retry.
- Keys live IDEMPOTENCY_KEY_TTL (24 h by default); a periodic task purges them.

Two ways to hold a key while the handler runs:

- `idempotent(required=..., atomic=True)`, for the money operations: the claim, the handler's whole
  work and the stored answer are one transaction with one commit. A transaction-scoped advisory lock
  on the key (tried, never waited for) makes a concurrent retry answer 409 at once; a crash rolls the
  claim back with the rest, so no lease is needed. The handler's services must not open durable
  transactions of their own.
- Otherwise the claim is its own committed INSERT, outside the service's transaction, so that exactly
  one request can hold a key however many arrive at once; the answer is stored by a second commit and
  a request that died is taken over after IDEMPOTENCY_LEASE.
"""

import functools
import hashlib
import json
import re

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse

from api.errors import problem_response
from api.models import IdempotencyRecord
from core import clock

HEADER = "Idempotency-Key"
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
# Headers worth replaying along with the body.
_REPLAYED_HEADERS = ("Location",)


def caller_scope(request) -> str | None:
    terminal = getattr(request, "auth_terminal", None)
    if terminal is not None:
        return f"terminal:{terminal.pk}"
    if request.user is not None and getattr(request.user, "is_authenticated", False):
        return f"user:{request.user.pk}"
    return None


def ledger_reference(kind: str, request) -> str:
    """A ledger reference anchored on the caller's Idempotency-Key: a crash between the
    money moving and the response being stored still cannot move the money twice."""
    return f"{kind}:{caller_scope(request)}:{request.headers[HEADER]}"


def request_fingerprint(request) -> str:
    # The body as the API's parser reads it (api/parsers.py), so its limits hold here too: a body
    # it refuses is answered 400 before any key is claimed.
    raw = request.body or b""
    canonical = json.dumps(request.data, sort_keys=True, separators=(",", ":")).encode() if raw else b""
    return hashlib.sha256(request.method.encode() + b" " + request.path.encode() + b"\n" + canonical).hexdigest()


def idempotent(*, required: bool, atomic: bool = False):
    """Decorate an APIView handler (post) to honour the Idempotency-Key header (atomic: see above)."""

    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(view, request, *args, **kwargs):
            key = request.headers.get(HEADER)
            if key is None:
                if required:
                    return problem_response(
                        status_code=400,
                        code="idempotency_key_required",
                        title="Idempotency key required",
                        detail=f"This endpoint moves money: send an {HEADER} header (a UUID is ideal).",
                    )
                return handler(view, request, *args, **kwargs)
            if not _VALID_KEY.match(key):
                return problem_response(
                    status_code=400,
                    code="idempotency_key_invalid",
                    title="Idempotency key invalid",
                    detail=f"{HEADER} must be 1 to 255 visible ASCII characters.",
                )
            caller = caller_scope(request)
            if caller is None:  # anonymous endpoints cannot scope a key
                return handler(view, request, *args, **kwargs)

            if atomic:
                return _run_atomically(view, request, handler, args, kwargs, caller=caller, key=key)
            record, outcome = _claim(caller=caller, key=key, request=request)
            if outcome is not None:
                return outcome

            try:
                try:
                    response = handler(view, request, *args, **kwargs)
                except Exception as exc:  # domain and API errors are rendered, then stored like any answer
                    response = view.handle_exception(exc)
            except BaseException:
                _release(record)  # a crash is no answer: let the client retry
                raise
            response = view.finalize_response(request, response, *args, **kwargs)
            if hasattr(response, "render"):
                response.render()
            _store(record, _replayable(view, request, response, *args, **kwargs))
            return response

        wrapper.idempotency = "required" if required else "optional"
        return wrapper

    return decorate


# A new record of a running request, in both modes: its columns, and the values a claim gives them.
_RECORD_COLUMNS = (
    "caller, key, request_fingerprint, method, path, response_content_type, response_headers, locked_at, created_at, expires_at"
)
_RECORD_VALUES = "%(caller)s, %(key)s, %(fingerprint)s, %(method)s, %(path)s, '', '{}'::jsonb, %(now)s, %(now)s, %(expires)s"

# The claim of the atomic mode, as one statement: try the key's advisory lock (namespace 1229, "idem";
# never waited for), see whether the key is taken, and insert the record only when it is free.
_CLAIM_IN_TRANSACTION = f"""
WITH gate AS (SELECT pg_try_advisory_xact_lock(1229, hashtext(%(caller)s || ' ' || %(key)s)) AS free),
existing AS (SELECT id FROM {IdempotencyRecord._meta.db_table} WHERE caller = %(caller)s AND key = %(key)s),
claimed AS (
    INSERT INTO {IdempotencyRecord._meta.db_table} ({_RECORD_COLUMNS})
    SELECT {_RECORD_VALUES}
      FROM gate WHERE gate.free AND NOT EXISTS (SELECT 1 FROM existing)
    ON CONFLICT ON CONSTRAINT idempotency_key_unique_per_caller DO NOTHING
    RETURNING id
)
SELECT gate.free, (SELECT id FROM claimed), (SELECT id FROM existing) FROM gate
"""

# The claim of the other mode: the record, unless the caller's key has one. In autocommit it is its own
# transaction (no BEGIN and COMMIT round trips); DO NOTHING, not a unique violation, so inside an outer
# transaction (tests) a taken key aborts nothing and needs no savepoint.
_CLAIM = f"""
INSERT INTO {IdempotencyRecord._meta.db_table} ({_RECORD_COLUMNS}) VALUES ({_RECORD_VALUES})
ON CONFLICT ON CONSTRAINT idempotency_key_unique_per_caller DO NOTHING
RETURNING id
"""


def _run_atomically(view, request, handler, args, kwargs, *, caller: str, key: str):
    """Claim, run and store in one transaction; a 5xx or a database error rolls all of it back."""
    with transaction.atomic(durable=True):
        record_id, outcome = _claim_in_transaction(caller=caller, key=key, request=request)
        if outcome is not None:
            return outcome
        failed = False
        try:
            response = handler(view, request, *args, **kwargs)
        except DatabaseError as exc:  # the transaction is broken (a lock timeout, a lost connection)
            response, failed = view.handle_exception(exc), True
        except Exception as exc:  # domain and API errors are rendered, then stored like any answer
            response = view.handle_exception(exc)
        response = view.finalize_response(request, response, *args, **kwargs)
        if hasattr(response, "render"):
            response.render()
        if failed or response.status_code >= 500:
            transaction.set_rollback(True)  # a crash is no answer: nothing happened, the key stays free
            return response
        _store_answer(record_id, response)
    return response


def _claim_in_transaction(*, caller: str, key: str, request):
    """(the new record's id, None) when this request owns the key, or (None, the answer) otherwise."""
    params = _claim_params(caller=caller, key=key, request=request)
    now = params["now"]
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM_IN_TRANSACTION, params)
        free, claimed_id, existing_id = cursor.fetchone()
    if not free:
        return None, _in_progress()
    if claimed_id is not None:
        return claimed_id, None
    existing = IdempotencyRecord.objects.filter(caller=caller, key=key).first()
    if existing is None:  # purged since: the key is free again
        return _claim_in_transaction(caller=caller, key=key, request=request)
    if existing.expires_at <= now:
        existing.delete()
        return _claim_in_transaction(caller=caller, key=key, request=request)
    if existing.request_fingerprint != params["fingerprint"]:
        return None, _key_reused()
    if existing.status_code is None:  # held by a request of the other mode, still running
        return None, _in_progress()
    return None, _replay(existing)


def _replayable(view, request, response, *args, **kwargs):
    """What a replay answers: the response itself, or the stand-in it names in `replay_with`. An answer
    carrying a secret shown once (a terminal key) names one, so the secret is never stored here and a
    retry cannot read it a second time."""
    stand_in = getattr(response, "replay_with", None)
    if stand_in is None:
        return response
    stand_in = view.finalize_response(request, stand_in, *args, **kwargs)
    stand_in.render()
    return stand_in


def _claim_params(*, caller: str, key: str, request) -> dict:
    now = clock.now()
    return {
        "caller": caller,
        "key": key,
        "fingerprint": request_fingerprint(request),
        "method": request.method,
        "path": request.path[:300],
        "now": now,
        "expires": now + settings.IDEMPOTENCY_KEY_TTL,
    }


def _claim(*, caller: str, key: str, request):
    """Return (record, None) when this request owns the key, or (None, response) otherwise."""
    params = _claim_params(caller=caller, key=key, request=request)
    fingerprint, now = params["fingerprint"], params["now"]
    with connection.cursor() as cursor:
        cursor.execute(_CLAIM, params)
        claimed = cursor.fetchone()
    if claimed is not None:
        return IdempotencyRecord(pk=claimed[0], caller=caller, key=key, locked_at=now), None

    existing = IdempotencyRecord.objects.filter(caller=caller, key=key).first()
    if existing is not None and existing.expires_at <= now:
        # Past its lifetime the key is free again, whatever the hourly purge has not yet removed.
        IdempotencyRecord.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
        return _claim(caller=caller, key=key, request=request)
    if existing is None:  # purged between our INSERT and SELECT: vanishingly rare, ask for a retry
        return None, _in_progress()
    if existing.request_fingerprint != fingerprint:
        return None, _key_reused()
    if existing.status_code is not None:
        return None, _replay(existing)
    if existing.locked_at <= now - settings.IDEMPOTENCY_LEASE:
        # The first request died without an answer; take its place if nobody beat us to it.
        taken = IdempotencyRecord.objects.filter(
            pk=existing.pk, status_code__isnull=True, locked_at=existing.locked_at
        ).update(locked_at=now)
        if taken == 1:
            existing.locked_at = now
            return existing, None
    return None, _in_progress()


def _store(record: IdempotencyRecord, response) -> None:
    if response.status_code >= 500:
        _release(record)
        return
    _store_answer(record.pk, response)


# Every answer is stored by this one statement: as SQL, since a QuerySet.update() is compiled afresh for
# each request (core/sql.py says why), and this runs on every POST that moves money.
_STORE_ANSWER = f"""
UPDATE {IdempotencyRecord._meta.db_table}
   SET status_code = %s, response_body = %s, response_content_type = %s, response_headers = %s::jsonb
 WHERE id = %s
"""


def _store_answer(record_id: int, response) -> None:
    headers = {name: response[name] for name in _REPLAYED_HEADERS if response.has_header(name)}
    with connection.cursor() as cursor:
        cursor.execute(
            _STORE_ANSWER,
            [response.status_code, bytes(response.content), response.get("Content-Type", ""), json.dumps(headers), record_id],
        )


def _key_reused():
    return problem_response(
        status_code=422,
        code="idempotency_key_reused",
        title="Idempotency key reused",
        detail="This Idempotency-Key was already used with a different request.",
    )


def _release(record: IdempotencyRecord) -> None:
    IdempotencyRecord.objects.filter(pk=record.pk, status_code__isnull=True).delete()


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.response_body or b""), status=record.status_code, content_type=record.response_content_type
    )
    for name, value in record.response_headers.items():
        response[name] = value
    response["Idempotent-Replayed"] = "true"
    return response


def _in_progress():
    return problem_response(
        status_code=409,
        code="idempotency_request_in_progress",
        title="Request in progress",
        detail="A request with this Idempotency-Key is still being processed; retry shortly.",
        headers={"Retry-After": "1"},
    )


def idempotency_records_purge(*, now=None) -> int:
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=now or clock.now()).delete()
    return deleted
