"""`make bench` / `make bench-quick`: load the data, start the production stack, run the
scenarios, check the invariants, write bench/results/latest.json and the chart.

    python scripts/with_services.py -- .venv/bin/python -m bench.run [--quick] [--seed N] [--only a,b]

Runs against the DATABASE_URL and REDIS_URL it is given (with_services.py makes
throwaway ones): it migrates, fills and changes that database.
"""

import argparse
import json
import os
import platform
import socket
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from config.dev_secrets import local_stack_env

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "bench" / "results"
WORK = REPO / "var" / "bench"

PROFILES = {
    "full": {"concurrency": 16, "duration": 20, "warmup": 3, "rush_duration": 30, "race_rounds": 100, "burst_events": 2, "statement_guardians": 1000},
    "quick": {"concurrency": 16, "duration": 6, "warmup": 2, "rush_duration": 10, "race_rounds": 10, "burst_events": 1, "statement_guardians": 300},
}
# Scenarios that share one row on purpose (a merchant's payable, a program's funding), and the
# spread-out scenario each is the twin of, compared in the same run.
HOT_SCENARIOS = {"hot_merchant_charge": "card_charge", "hot_program_redeem": "voucher_redeem"}
MIN_RATIO_TO_SPREAD = 0.9
# Throughput scenarios are compared with the baseline; targets from the issue.
TARGETS = {
    "card_charge": {"min_ratio": 0.6, "max_p99_ms": 150},
    "voucher_redeem": {"min_ratio": 0.6, "max_p99_ms": 150},
    "canteen_rush": {"min_ratio": 0.5},
    # p99 within 1.2 x the same run's baseline p99: the machine's noise moves both together.
    "statement_read": {"max_p99_to_baseline_p99": 1.2},
}
# Every answer of 200 simultaneous sign-ups within this (p99), besides the exact places.
MAX_BURST_P99_MS = 2000
MAX_WORKER_RSS_MB = 200


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _environment(port: int) -> dict:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("bench: DATABASE_URL must point at PostgreSQL (run it through scripts/with_services.py, as `make bench` does)")
    if not os.environ.get("REDIS_URL"):
        sys.exit("bench: REDIS_URL is required (Celery broker, cache)")
    WORK.mkdir(parents=True, exist_ok=True)
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings_bench",
        "DEBUG": "false",
        # Throwaway keys of its own (and plain HTTP), shared by the generator, which signs voucher
        # codes and hashes card numbers, and the server, which must accept them.
        **local_stack_env(),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_BEAT_SCHEDULE_FILE": str(WORK / "celerybeat-schedule"),
        "LOG_LEVEL": os.environ.get("LOG_LEVEL", "INFO"),
        "PORT": str(port),
    }


def _machine() -> dict:
    meminfo = Path("/proc/meminfo").read_text().split()
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")), "")
    return {
        "cores": os.cpu_count(),
        "memory_gib": round(int(meminfo[meminfo.index("MemTotal:") + 1]) / 1024 / 1024, 1),
        "cpu": cpu,
        "kernel": platform.release(),
        "loadavg_at_start": list(os.getloadavg()),
    }


def _versions() -> dict:
    import celery
    import django
    import gunicorn
    import psycopg
    import redis
    import rest_framework
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
        # Whether a commit waits for the disk (make bench-durable) or not (make bench, the test suite).
        cursor.execute("SELECT current_setting('fsync'), current_setting('synchronous_commit'), current_setting('full_page_writes')")
        durability = dict(zip(("fsync", "synchronous_commit", "full_page_writes"), cursor.fetchone(), strict=True))
    return {
        "python": platform.python_version(),
        "django": django.get_version(),
        "djangorestframework": rest_framework.VERSION,
        "gunicorn": gunicorn.__version__,
        "celery": celery.__version__,
        "psycopg": psycopg.__version__,
        "postgresql": postgres,
        "postgresql_durability": durability,
        "redis": redis.Redis.from_url(settings.REDIS_URL).info("server")["redis_version"],
    }


def _mint_tokens(user_ids: set[int]) -> dict[int, str]:
    """Sign guardians in as the API does: an AuthSession each and a 15-minute access token naming it.

    The sessions are bulk-inserted (thousands of sign-ins one INSERT at a time would take longer
    than a scenario); the tokens come from api.auth's own pair builder, so they are exactly the
    tokens the sign-in endpoint hands out.
    """
    import uuid

    from api.auth import _refresh_expiry, _token_pair
    from guardians.models import AuthSession, User

    users = list(User.objects.filter(pk__in=user_ids))
    sessions = AuthSession.objects.bulk_create(
        [AuthSession(user=user, current_refresh_jti=uuid.uuid4().hex, expires_at=_refresh_expiry(), user_agent="tuckbox-bench") for user in users],
        batch_size=2000,
    )
    return {user.pk: _token_pair(user, session)["access"] for user, session in zip(users, sessions, strict=True)}


def _evaluate(results: dict) -> dict:
    scenarios = results["scenarios"]
    checks = {}
    for name, target in TARGETS.items():
        result = scenarios.get(name, {})
        if result.get("skipped"):
            continue
        ok = result.get("errors", 1) == 0
        if "min_ratio" in target:
            ok &= (result.get("ratio") or 0) >= target["min_ratio"]
        if "max_p99_ms" in target:
            ok &= (result.get("p99_ms") or 1e9) <= target["max_p99_ms"]
        if "max_p99_to_baseline_p99" in target:
            baseline_p99 = scenarios.get("baseline", {}).get("p99_ms") or 0
            ok &= (result.get("p99_ms") or 1e9) <= target["max_p99_to_baseline_p99"] * baseline_p99
        if name == "canteen_rush":
            ok &= result.get("accepted_after_cutoff") == 0 and result.get("orders_created_after_cutoff_in_database") == 0
            ok &= result.get("orders_charged_by_cutoff_run") == result.get("orders_in_database")
        checks[name] = bool(ok)
    for hot in HOT_SCENARIOS:
        result = scenarios.get(hot, {})
        if result and not result.get("skipped"):
            checks[hot] = result.get("errors", 1) == 0 and (result.get("ratio_to_spread") or 0) >= MIN_RATIO_TO_SPREAD
    race = scenarios.get("voucher_race", {})
    if race and not race.get("skipped"):
        checks["voucher_race"] = (
            race.get("rounds_with_exactly_one_success") == race.get("rounds")
            and race.get("race_successes") == race.get("rounds")
            and race.get("race_redemptions_in_database") == race.get("rounds")
            and race.get("errors") == 0
        )
    burst = scenarios.get("event_signup_burst", {})
    if burst and not burst.get("skipped"):
        checks["event_signup_burst"] = (
            bool(burst.get("confirmed"))
            and all(count == burst["capacity"] for count in burst["confirmed"])
            and all(count == burst["capacity"] for count in burst.get("confirmed_in_replies", []))
            and burst.get("errors") == 0
            and (burst.get("p99_ms") or 1e9) <= MAX_BURST_P99_MS
        )
    checks["reconciliation"] = bool(results.get("reconciliation", {}).get("ok"))
    peaks = results.get("gunicorn_worker_peak_rss_mb", {})
    checks["worker_peak_rss"] = bool(peaks) and max(peaks.values()) <= MAX_WORKER_RSS_MB
    return checks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smaller data, shorter runs (make bench-quick)")
    parser.add_argument("--seed", type=int, default=int(os.environ.get("BENCH_SEED", "42")))
    parser.add_argument("--only", default="", help="comma-separated scenario names (the baseline always runs)")
    parser.add_argument("--output", default=str(RESULTS / "latest.json"))
    args = parser.parse_args(argv)
    started = time.perf_counter()
    profile_name = "quick" if args.quick else "full"
    profile = PROFILES[profile_name]
    port = _free_port()
    env = _environment(port)
    os.environ.update(env)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench import chart, datagen, queries
    from bench.cpu import CpuMeter
    from bench.scenarios import (
        Baseline,
        CanteenRush,
        CardCharge,
        Context,
        EventSignupBurst,
        HotMerchantCharge,
        HotProgramRedeem,
        StatementRead,
        VoucherPool,
        VoucherRace,
        VoucherRedeem,
        VoucherTokens,
    )
    from bench.stack import Stack

    phases: dict[str, float] = {}

    def phase(name, since):
        phases[name] = round(time.perf_counter() - since, 1)
        print(f"bench: {name} done in {phases[name]}s", flush=True)

    results: dict = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "profile": profile_name,
        "seed": args.seed,
        "settings": {**profile, "gunicorn_workers": None, "settings_module": "config.settings_bench", "debug": False},
        "machine": _machine(),
        "versions": _versions(),
        "notes": [],
    }
    t = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    phase("migrate", t)

    t = time.perf_counter()
    manifest = datagen.generate(profile=profile_name, seed=args.seed, manifest_path=WORK / "manifest.json")
    results["data"] = {"counts": manifest["counts"], "timings_s": manifest["timings_s"], "fingerprint": datagen.fingerprint(manifest)}
    phase("data", t)

    t = time.perf_counter()
    students = manifest["students"]
    rush_children = [i for i, s in enumerate(students["school_index"]) if s == manifest["rush_school_index"]]
    others = [i for i, s in enumerate(students["school_index"]) if s not in (manifest["rush_school_index"], manifest["event_school_index"])]
    import random

    statement_pool = random.Random(args.seed).sample(others, min(profile["statement_guardians"], len(others)))
    burst_children = [i for i, s in enumerate(students["school_index"]) if s == manifest["event_school_index"]][: EventSignupBurst.signups]
    wanted = {students["user_ids"][i] for i in rush_children + statement_pool + burst_children}
    tokens = _mint_tokens(wanted)
    phase("tokens", t)

    ctx = Context(manifest=manifest, port=port, tokens=tokens, profile=profile, seed=args.seed)
    pool, voucher_tokens = VoucherPool(ctx), VoucherTokens()
    scenarios = [
        Baseline(ctx),
        CardCharge(ctx),
        HotMerchantCharge(ctx),
        VoucherRedeem(ctx, pool, voucher_tokens),
        HotProgramRedeem(ctx, pool, voucher_tokens),
        CanteenRush(ctx),
        StatementRead(ctx, statement_pool),
        VoucherRace(ctx, pool, voucher_tokens),
        EventSignupBurst(ctx),
    ]
    only = {name for name in args.only.split(",") if name}
    stack = Stack(env=env, log_dir=WORK / "logs")
    results["scenarios"] = {}
    connection.close()  # the stack forks nothing of ours, but keep no idle transaction open meanwhile
    t = time.perf_counter()
    stack.start(port=port)
    results["settings"]["gunicorn_workers"] = len(stack.web_workers())
    meter = CpuMeter(stack)
    phase("stack_start", t)
    try:
        for scenario in scenarios:
            if only and scenario.name not in only and scenario.name != "baseline":
                continue
            missing = scenario.missing_routes()
            if missing:
                results["scenarios"][scenario.name] = {"skipped": True, "reason": f"endpoint not there yet: {', '.join(missing)}"}
                results["notes"].append(f"{scenario.name} skipped: {', '.join(missing)} not routed in this tree")
                continue
            t = time.perf_counter()
            try:
                results["scenarios"][scenario.name] = scenario.run(meter)
            except Exception as exc:  # a broken scenario is reported, and the others still run
                traceback.print_exc()
                results["scenarios"][scenario.name] = {"skipped": True, "reason": f"failed: {exc!r}"}
                results["notes"].append(f"{scenario.name} failed: {exc!r}")
            finally:
                connection.close()
            phase(scenario.name, t)
        baseline_rps = results["scenarios"]["baseline"].get("rps") or 0
        for name, result in results["scenarios"].items():
            if name != "baseline" and not result.get("skipped") and scenario_kind(scenarios, name) == "throughput":
                result["ratio"] = round(result["rps"] / baseline_rps, 2) if baseline_rps else None
                # What the ratio would be if CPU were the only limit: baseline CPU per request / this one's.
                base_cpu = results["scenarios"]["baseline"].get("cpu_ms_per_request", {}).get("total")
                cpu = result.get("cpu_ms_per_request", {}).get("total")
                result["cpu_ratio"] = round(base_cpu / cpu, 2) if base_cpu and cpu else None
        for hot, spread in HOT_SCENARIOS.items():
            hot_result, spread_result = results["scenarios"].get(hot, {}), results["scenarios"].get(spread, {})
            if hot_result and not hot_result.get("skipped") and spread_result.get("rps"):
                hot_result["ratio_to_spread"] = round(hot_result["rps"] / spread_result["rps"], 2)

        t = time.perf_counter()
        try:
            race_voucher = pool.take() if pool.other or pool.race else None
            from django.conf import settings

            settings.ACCESS_LOG = False  # in-process requests: their access lines would only clutter the output
            results["queries_per_request"] = queries.profile(ctx, voucher=race_voucher, tokens=voucher_tokens)
        except Exception as exc:
            traceback.print_exc()
            results["notes"].append(f"query profile failed: {exc!r}")
        phase("query_profile", t)
        results["gunicorn_worker_peak_rss_mb"] = stack.worker_rss_mb()
        results["celery_rss_mb"] = stack.other_rss_mb()
    finally:
        t = time.perf_counter()
        stack.stop()
        phase("stack_stop", t)

    t = time.perf_counter()
    from wallet.reconciliation import reconciliation_run

    summary = reconciliation_run()
    results["reconciliation"] = {
        "ok": summary.ok,
        "issues_found": summary.issues_found,
        "checked_transactions": summary.checked_transactions,
        "checked_accounts": summary.checked_accounts,
        "seconds": round(time.perf_counter() - t, 2),
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM wallet_entry")
        results["reconciliation"]["ledger_entries"] = cursor.fetchone()[0]
    phase("reconciliation", t)

    results["machine"]["loadavg_at_end"] = list(os.getloadavg())
    results["phases_s"] = phases
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    results["targets"] = _evaluate(results)
    results["all_targets_met"] = all(results["targets"].values())
    output = Path(args.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2) + "\n")
    chart.draw(results, output.with_suffix(".png"))
    print(table(results))
    print(f"bench: wrote {output} and {output.with_suffix('.png')} in {results['total_seconds']}s")
    return 0


def scenario_kind(scenarios, name: str) -> str:
    return next((s.kind for s in scenarios if s.name == name), "throughput")


def table(results: dict) -> str:
    lines = [
        "| scenario | rps | ratio | p50 ms | p95 ms | p99 ms | errors | invariant | target met |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for name, r in results["scenarios"].items():
        if r.get("skipped"):
            lines.append(f"| {name} | skipped | | | | | | {r['reason']} | |")
            continue
        invariant = ""
        if name == "canteen_rush":
            invariant = f"accepted_after_cutoff={r['accepted_after_cutoff']}"
        elif name == "voucher_race":
            invariant = f"{r['rounds_with_exactly_one_success']}/{r['rounds']} rounds with one success"
        elif name in HOT_SCENARIOS:
            invariant = f"ratio_to_spread={r.get('ratio_to_spread')}"
        elif name == "event_signup_burst":
            invariant = f"confirmed={r['confirmed']}"
        met = results["targets"].get(name, "")
        lines.append(
            f"| {name} | {r['rps']} | {r.get('ratio', '') or ''} | {r['p50_ms']} | {r['p95_ms']} | {r['p99_ms']} | {r['errors']} | {invariant} | {met} |"
        )
    rec = results.get("reconciliation", {})
    peaks = results.get("gunicorn_worker_peak_rss_mb", {})
    lines.append("")
    lines.append(f"reconciliation ok={rec.get('ok')} over {rec.get('ledger_entries')} entries; gunicorn worker peak RSS MB: {sorted(peaks.values())}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
