"""Queries per request: one request of each scenario's kind, in-process through the whole
middleware and view stack (django.test.Client), with the SQL captured.

This is the number the throughput ratios mostly follow: on two shared cores every
round trip to PostgreSQL costs the worker, the database and the scheduler.
"""

import json
import re
import time
import uuid
from collections import Counter
from datetime import UTC, datetime

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

API = "/api/v1"
_LITERALS = re.compile(r"'[^']*'|\b\d+\b")


def _shape(sql: str) -> str:
    """The query with literals blanked, so repeats of one statement group together."""
    return _LITERALS.sub("?", sql)[:160]


_client: Client | None = None


def measure(method: str, path: str, *, headers: dict, body=None) -> dict:
    global _client
    if _client is None:  # one handler: its middleware (WhiteNoise's file scan) loads once, as in a worker
        _client = Client(raise_request_exception=False)
    client = _client
    extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        if body is None:
            response = getattr(client, method.lower())(path, **extra)
        else:
            response = getattr(client, method.lower())(path, data=json.dumps(body), content_type="application/json", **extra)
        elapsed = (time.perf_counter() - started) * 1000
    statements = [query["sql"] for query in captured.captured_queries]
    shapes = Counter(_shape(sql) for sql in statements)
    return {
        "status": response.status_code,
        "body": response.content[:200].decode(errors="replace") if response.status_code >= 400 else "",
        "queries": len(statements),
        "ms_in_process": round(elapsed, 1),
        "statements": [sql[:200] for sql in statements],
        "repeated": {shape: count for shape, count in shapes.items() if count > 1},
    }


def profile(ctx, *, voucher=None, tokens=None) -> dict:
    """One request per endpoint the scenarios use (a fresh student, card and voucher each)."""
    rng = ctx.rng
    results = {}
    results["baseline"] = measure("POST", "/bench/baseline", headers={}, body={})

    i = rng.randrange(len(ctx.student_ids))
    school = ctx.student_school[i]
    item = ctx.everyday_items(school, i, ("snack", "fruit", "drink"))[0]
    results["card_charge"] = measure(
        "POST",
        f"{API}/terminal/canteen/sales",
        headers={"X-Terminal-Key": ctx.manifest["canteen_terminal_keys"][school][0], "Idempotency-Key": uuid.uuid4().hex},
        body={"card_identifier": ctx.card_identifier(i), "items": [{"item_id": item["id"], "quantity": 1}]},
    )

    if voucher is not None and tokens is not None:
        voucher_id, number, secret, program, face = voucher
        results["voucher_redeem"] = measure(
            "POST",
            f"{API}/terminal/voucher-redemptions",
            headers={"X-Terminal-Key": ctx.manifest["programs"][program]["terminal_keys"][0], "Idempotency-Key": uuid.uuid4().hex},
            body={"vouchers": [{"qr": tokens.qr(number, secret)}], "amount": face, "description": "Bench profile"},
        )

    # A pre-order for tomorrow at the rush school (today's cut-off has passed by now).
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from guardians.models import School

    rush = School.objects.get(pk=ctx.manifest["school_ids"][ctx.manifest["rush_school_index"]])
    tomorrow = datetime.now(UTC).astimezone(ZoneInfo(rush.time_zone)).date() + timedelta(days=1)
    pool = [s for s in ctx.students_of(ctx.manifest["rush_school_index"]) if ctx.student_user[s] in ctx.tokens]
    j = pool[-1]
    lunch = ctx.everyday_items(ctx.manifest["rush_school_index"], j, ("lunch",))[0]
    results["canteen_rush"] = measure(
        "POST",
        f"{API}/students/{ctx.student_ids[j]}/orders",
        headers={**ctx.bearer(j), "Idempotency-Key": uuid.uuid4().hex},
        body={"service_date": tomorrow.isoformat(), "items": [{"item_id": lunch["id"], "quantity": 1}]},
    )

    k = next(s for s in range(len(ctx.student_ids)) if ctx.student_user[s] in ctx.tokens)
    results["statement_read (card, page 1)"] = measure(
        "GET", f"{API}/students/{ctx.student_ids[k]}/card/statement?page_size=20", headers=ctx.bearer(k)
    )
    results["statement_read (wallet)"] = measure("GET", f"{API}/wallet/statement?page_size=20", headers=ctx.bearer(k))
    return results
