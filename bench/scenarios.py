"""The scenarios. Each has a synchronous `setup` (the ORM is fine there), an asyncio `load`
run against the live stack, and a synchronous `check` of its invariants in the database.

Expected answers are counted as such; anything else is an error (an unexpected status,
or an expected status with an unexpected problem code).
"""

import asyncio
import random
import time
import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from django.urls import NoReverseMatch, Resolver404, resolve

from bench.loadgen import Client, Stats, closed_loop

API = "/api/v1"


class Context:
    def __init__(self, *, manifest: dict, port: int, tokens: dict[int, str], profile: dict, seed: int):
        self.manifest = manifest
        self.port = port
        self.tokens = tokens  # guardian user id -> access token
        self.profile = profile
        self.rng = random.Random(seed * 7919)
        self.seed = seed
        students = manifest["students"]
        self.student_ids = students["ids"]
        self.student_school = students["school_index"]
        self.student_user = students["user_ids"]
        self.allergens = {int(k): set(v) for k, v in students["allergens"].items()}
        self.card_format = manifest["card_identifier_format"]

    def card_identifier(self, index: int) -> str:
        return self.card_format.format(seed=self.seed, index=index)

    def everyday_items(self, school: int, student: int, categories: tuple[str, ...]) -> list[dict]:
        allergic = self.allergens.get(student, set())
        return [
            item
            for item in self.manifest["menus"][school]
            if not item["weekdays"] and item["category"] in categories and not allergic & set(item["allergens"])
        ]

    def students_of(self, school: int) -> list[int]:
        return [i for i, s in enumerate(self.student_school) if s == school]

    def bearer(self, index: int) -> dict:
        return {"Authorization": f"Bearer {self.tokens[self.student_user[index]]}"}


def route_exists(path: str) -> bool:
    try:
        resolve(path)
        return True
    except (Resolver404, NoReverseMatch):
        return False


def idempotency() -> dict:
    return {"Idempotency-Key": uuid.uuid4().hex}


class Scenario:
    name = ""
    kind = "throughput"  # or "invariant"
    requires: tuple[str, ...] = ()

    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.extra: dict = {}

    def missing_routes(self) -> list[str]:
        return [path for path in self.requires if not route_exists(path)]

    def setup(self) -> None:
        pass

    async def load(self) -> Stats:
        raise NotImplementedError

    def check(self) -> dict:
        return {}

    meter = None

    async def measuring(self) -> None:
        """Called when the measured part starts (after any warm-up): the CPU meter's zero."""
        if self.meter is not None:
            await asyncio.to_thread(self.meter.start)

    def run(self, meter=None) -> dict:
        self.meter = meter
        self.setup()
        stats = asyncio.run(self.load())
        result = stats.summary()
        if meter is not None:
            result["cpu_ms_per_request"] = meter.stop(result["requests"])
        result.update(self.extra)
        result.update(self.check())
        return result


class ThroughputScenario(Scenario):
    async def step(self, client: Client, stats: Stats) -> None:
        raise NotImplementedError

    async def warmup_step(self, client: Client, stats: Stats) -> None:
        await self.step(client, stats)

    async def load(self) -> Stats:
        client = Client(self.ctx.port)
        return await closed_loop(
            lambda stats: self.step(client, stats),
            warmup_step=lambda stats: self.warmup_step(client, stats),
            concurrency=self.ctx.profile["concurrency"],
            duration=self.ctx.profile["duration"],
            warmup=self.ctx.profile["warmup"],
            on_start=self.measuring,
        )


# --- baseline ---------------------------------------------------------------------------


class Baseline(ThroughputScenario):
    name = "baseline"

    async def step(self, client, stats):
        reply = await client.request("POST", "/bench/baseline", json_body={})
        stats.record(reply, ok=reply.status == 201)


# --- card_charge ------------------------------------------------------------------------


class CardCharge(ThroughputScenario):
    """Canteen terminals sell items to random students' cards: the card charge with items,
    the child's food rules, caps (every card has them) and an Idempotency-Key."""

    name = "card_charge"
    requires = (f"{API}/terminal/canteen/sales",)

    async def step(self, client, stats):
        ctx = self.ctx
        i = ctx.rng.randrange(len(ctx.student_ids))
        school = ctx.student_school[i]
        items = ctx.everyday_items(school, i, ("snack", "fruit", "drink"))
        picked = ctx.rng.sample(items, min(len(items), ctx.rng.choice((1, 2))))
        reply = await client.request(
            "POST",
            f"{API}/terminal/canteen/sales",
            headers={"X-Terminal-Key": ctx.rng.choice(ctx.manifest["canteen_terminal_keys"][school]), **idempotency()},
            json_body={"card_identifier": ctx.card_identifier(i), "items": [{"item_id": item["id"], "quantity": 1} for item in picked]},
        )
        stats.record(reply, ok=reply.status == 201)


class HotMerchantCharge(CardCharge):
    """The card charge of `card_charge`, but every sale at one school's canteen (one merchant, its
    terminals) and to distinct cards: each next sale takes the next child of the school, so no two
    sales in flight share a card. Only the merchant is shared: its rps over the spread scenario's
    (`ratio_to_spread`) shows whether the merchant's payable serialises its sales."""

    name = "hot_merchant_charge"

    def setup(self) -> None:
        ctx = self.ctx
        busy = {ctx.manifest["rush_school_index"], ctx.manifest["event_school_index"]}
        schools = sorted({s for s in ctx.student_school if s not in busy})
        self.school = max(schools, key=lambda school: len(ctx.students_of(school)))
        self.children = ctx.students_of(self.school)
        self.sales = 0
        self.extra = {"school_index": self.school, "cards": len(self.children), "terminals": len(ctx.manifest["canteen_terminal_keys"][self.school])}

    async def step(self, client, stats):
        ctx = self.ctx
        items = []
        while not items:  # a child whose allergies rule out every everyday item is passed over
            i = self.children[self.sales % len(self.children)]
            self.sales += 1
            items = ctx.everyday_items(self.school, i, ("snack", "fruit", "drink"))
        reply = await client.request(
            "POST",
            f"{API}/terminal/canteen/sales",
            headers={"X-Terminal-Key": ctx.rng.choice(ctx.manifest["canteen_terminal_keys"][self.school]), **idempotency()},
            json_body={"card_identifier": ctx.card_identifier(i), "items": [{"item_id": items[0]["id"], "quantity": 1}]},
        )
        stats.record(reply, ok=reply.status == 201)


# --- vouchers --------------------------------------------------------------------------------


class VoucherTokens:
    """App QR payloads: the signed part once per voucher, the rotating code at request time."""

    def __init__(self):
        from vouchers import tokens

        self.tokens = tokens
        self.signed: dict[str, str] = {}

    def qr(self, number: str, secret: str) -> str:
        tokens = self.tokens
        if number not in self.signed:
            self.signed[number] = tokens.sign(number=number, mode=tokens.MODE_APP)
        step = tokens.time_step(datetime.now(UTC))
        return f"{self.signed[number]}.{tokens.totp(secret, step)}"


HOT_PROGRAM_INDEX = 0


class VoucherPool:
    """Vouchers handed out once each: the redeem scenario and each race round get fresh ones."""

    def __init__(self, ctx: Context):
        race_program = ctx.manifest["race_program_index"]
        self.race = [v for v in ctx.manifest["vouchers"] if v[3] == race_program]
        # One program's vouchers kept for hot_program_redeem; the spread scenario redeems the others'.
        self.hot = [v for v in ctx.manifest["vouchers"] if v[3] == HOT_PROGRAM_INDEX]
        self.other = [v for v in ctx.manifest["vouchers"] if v[3] not in (race_program, HOT_PROGRAM_INDEX)]

    def take_race(self):
        return self.race.pop()

    def take(self):
        return self.other.pop() if self.other else self.race.pop()


class VoucherRedeem(ThroughputScenario):
    """Provider terminals scan app QR codes (Ed25519 signature and TOTP checked by the server)
    and redeem part or all of distinct vouchers."""

    name = "voucher_redeem"
    requires = (f"{API}/terminal/voucher-redemptions",)

    def __init__(self, ctx, pool: VoucherPool, tokens: VoucherTokens):
        super().__init__(ctx)
        self.pool, self.tokens = pool, tokens

    async def step(self, client, stats):
        ctx = self.ctx
        voucher_id, number, secret, program, face = self.pool.take()
        reply = await client.request(
            "POST",
            f"{API}/terminal/voucher-redemptions",
            headers={"X-Terminal-Key": ctx.rng.choice(ctx.manifest["programs"][program]["terminal_keys"]), **idempotency()},
            json_body={
                "vouchers": [{"qr": self.tokens.qr(number, secret)}],
                "amount": ctx.rng.randrange(500, face + 1, 100),
                "description": "Bench lesson",
            },
        )
        stats.record(reply, ok=reply.status == 201)


class HotProgramRedeem(ThroughputScenario):
    """Sixteen terminals redeem distinct vouchers of one program at once. Each voucher's value is
    reserved in its own account at issue, so no redemption locks the program's funding: the rate
    should match the spread scenario's (`ratio_to_spread`, target >= 0.9)."""

    name = "hot_program_redeem"
    requires = (f"{API}/terminal/voucher-redemptions",)
    # Small amounts, so a voucher serves many redemptions; vouchers are taken round-robin from a list
    # far longer than the clients in flight, so two concurrent requests never share one.
    amount = 100

    def __init__(self, ctx, pool: VoucherPool, tokens: VoucherTokens):
        super().__init__(ctx)
        self.pool, self.tokens = pool, tokens
        self.turn = 0

    async def step(self, client, stats):
        ctx = self.ctx
        voucher_id, number, secret, program, face = self.pool.hot[self.turn % len(self.pool.hot)]
        self.turn += 1
        reply = await client.request(
            "POST",
            f"{API}/terminal/voucher-redemptions",
            headers={"X-Terminal-Key": ctx.rng.choice(ctx.manifest["programs"][program]["terminal_keys"]), **idempotency()},
            json_body={"vouchers": [{"qr": self.tokens.qr(number, secret)}], "amount": self.amount, "description": "Bench hot program"},
        )
        stats.record(reply, ok=reply.status == 201)


class VoucherRace(Scenario):
    """Fifty terminals redeem the same voucher at once, in full; one must win, every round."""

    name = "voucher_race"
    kind = "invariant"
    requires = (f"{API}/terminal/voucher-redemptions",)

    def __init__(self, ctx, pool: VoucherPool, tokens: VoucherTokens):
        super().__init__(ctx)
        self.pool, self.tokens = pool, tokens
        self.rounds = ctx.profile["race_rounds"]
        self.racers = 50
        self.voucher_ids: list[int] = []

    async def load(self) -> Stats:
        ctx = self.ctx
        client = Client(ctx.port)
        keys = ctx.manifest["programs"][ctx.manifest["race_program_index"]]["terminal_keys"]
        if len(keys) < self.racers:
            raise RuntimeError(f"the race needs {self.racers} terminals, the data has {len(keys)}")
        stats = Stats()
        successes = []
        await self.measuring()
        started = time.perf_counter()
        for _ in range(self.rounds):
            voucher_id, number, secret, program, face = self.pool.take_race()
            self.voucher_ids.append(voucher_id)
            qr = self.tokens.qr(number, secret)
            body = {"vouchers": [{"qr": qr}], "amount": face, "description": "Bench race"}
            replies = await asyncio.gather(
                *(
                    client.request("POST", f"{API}/terminal/voucher-redemptions", headers={"X-Terminal-Key": key, **idempotency()}, json_body=body)
                    for key in keys[: self.racers]
                )
            )
            won = 0
            for reply in replies:
                if reply.status == 201:
                    won += 1
                    stats.record(reply, ok=True)
                else:
                    stats.record(reply, ok=reply.status == 409 and reply.code() == "voucher_already_redeemed")
            successes.append(won)
        stats.first_started = started
        self.extra = {
            "rounds": self.rounds,
            "racers_per_round": self.racers,
            "race_successes": sum(successes),
            "rounds_with_exactly_one_success": sum(1 for won in successes if won == 1),
        }
        return stats

    def check(self) -> dict:
        from vouchers.models import RedemptionLine, Voucher

        lines = RedemptionLine.objects.filter(voucher_id__in=self.voucher_ids, redemption__voided_at__isnull=True).count()
        redeemed = Voucher.objects.filter(pk__in=self.voucher_ids, state="redeemed", remaining_value=0).count()
        return {"race_redemptions_in_database": lines, "race_vouchers_redeemed": redeemed}


# --- canteen_rush -------------------------------------------------------------------------


def zone_near_noon(now: datetime) -> str:
    """A fixed-offset zone where it is about midday now, so a cut-off minutes away falls on the same local day."""
    offset = max(-12, min(14, 12 - now.hour))
    if offset == 0:
        return "Etc/UTC"
    return f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}"  # POSIX sign: Etc/GMT-10 is UTC+10


class CanteenRush(ThroughputScenario):
    """Guardians pre-order lunch in the seconds either side of the school's cut-off.

    The server's clock cannot be moved, so the bench school's time zone and cut-off are
    set (just before the run) so that the cut-off falls in the middle of it. Every
    request started after the cut-off must be refused (422 ordering_closed).
    """

    name = "canteen_rush"
    requires = (f"{API}/students/1/orders",)

    def setup(self):
        from guardians.models import School

        ctx = self.ctx
        school_index = ctx.manifest["rush_school_index"]
        self.pool = ctx.students_of(school_index)
        self.next = 0
        now = datetime.now(UTC)
        zone = zone_near_noon(now)
        self.cutoff = (now + timedelta(seconds=ctx.profile["warmup"] + 2 + ctx.profile["rush_duration"] / 2)).replace(microsecond=0)
        local = self.cutoff.astimezone(ZoneInfo(zone))
        self.service_date = local.date()
        self.warmup_date = self.service_date + timedelta(days=1)
        School.objects.filter(pk=ctx.manifest["school_ids"][school_index]).update(time_zone=zone, canteen_cutoff=local.time())
        # Orders close at their service period's cut-off: the rush orders are for the default one.
        from canteen.models import ServicePeriod
        from canteen.periods import default_period

        rush = default_period(School.objects.get(pk=ctx.manifest["school_ids"][school_index]))
        ServicePeriod.objects.filter(pk=rush.pk).update(cutoff=local.time(), late_cutoff=None)
        self.accepted_after = 0
        self.accepted_before = 0
        self.refused_before = 0
        self.refused_after = 0
        self.pool_exhausted = 0
        self.extra = {"time_zone": zone, "cutoff_utc": self.cutoff.isoformat(), "service_date": self.service_date.isoformat()}

    def _body(self, i: int, day) -> dict:
        items = self.ctx.everyday_items(self.ctx.manifest["rush_school_index"], i, ("lunch", "drink", "fruit"))
        lunches = [item for item in items if item["category"] == "lunch"] or items
        others = [item for item in items if item["category"] != "lunch"]
        chosen = [self.ctx.rng.choice(lunches)] + ([self.ctx.rng.choice(others)] if others else [])
        return {"service_date": day.isoformat(), "items": [{"item_id": item["id"], "quantity": 1} for item in chosen]}

    def _student(self) -> int:
        i = self.pool[self.next % len(self.pool)]
        self.next += 1
        return i

    async def warmup_step(self, client, stats):
        # Tomorrow's orders: the same code path, without using up today's children.
        i = self.ctx.rng.choice(self.pool)
        reply = await client.request(
            "POST", f"{API}/students/{self.ctx.student_ids[i]}/orders", headers={**self.ctx.bearer(i), **idempotency()}, json_body=self._body(i, self.warmup_date)
        )
        stats.record(reply, ok=reply.status in (201, 409))

    async def step(self, client, stats):
        exhausted = self.next >= len(self.pool)
        i = self._student()
        reply = await client.request(
            "POST", f"{API}/students/{self.ctx.student_ids[i]}/orders", headers={**self.ctx.bearer(i), **idempotency()}, json_body=self._body(i, self.service_date)
        )
        after = reply.started >= self.cutoff.timestamp()
        if reply.status == 201:
            if after:
                self.accepted_after += 1
            else:
                self.accepted_before += 1
            stats.record(reply, ok=not after)
        elif reply.status == 422 and reply.code() == "ordering_closed":
            if after:
                self.refused_after += 1
            else:
                self.refused_before += 1  # started before, judged after: queued across the cut-off
            stats.record(reply, ok=True)
        elif reply.status == 409 and exhausted and reply.code() == "order_exists":
            self.pool_exhausted += 1
            stats.record(reply, ok=True)
        else:
            stats.record(reply, ok=False)

    async def load(self) -> Stats:
        ctx = self.ctx
        client = Client(ctx.port)
        warm = Stats()
        warm_until = time.time() + ctx.profile["warmup"]

        async def warm_client():
            while time.time() < warm_until:
                await self.warmup_step(client, warm)

        await asyncio.gather(*(warm_client() for _ in range(ctx.profile["concurrency"])))
        start_at = self.cutoff.timestamp() - ctx.profile["rush_duration"] / 2
        await asyncio.sleep(max(0.0, start_at - time.time()))
        end_at = self.cutoff.timestamp() + ctx.profile["rush_duration"] / 2
        await self.measuring()
        stats = Stats()
        started = time.perf_counter()

        async def rush_client():
            while time.time() < end_at:
                await self.step(client, stats)

        await asyncio.gather(*(rush_client() for _ in range(ctx.profile["concurrency"])))
        stats.first_started = started
        return stats

    def check(self) -> dict:
        from canteen.cutoff import cutoff_run
        from canteen.models import Order
        from guardians.models import School

        school_id = self.ctx.manifest["school_ids"][self.ctx.manifest["rush_school_index"]]
        orders = Order.objects.filter(school_id=school_id, service_date=self.service_date)
        late_in_db = orders.filter(created_at__gte=self.cutoff).count()
        # The cut-off run charges the day's holds. Run it here, as the beat would within a minute, so
        # that its work is checked and does not land inside the next scenario's measurement.
        started = time.perf_counter()
        cutoff_run(school=School.objects.get(pk=school_id), service_date=self.service_date)
        cutoff_seconds = round(time.perf_counter() - started, 1)
        return {
            "orders_charged_by_cutoff_run": orders.filter(payment__isnull=False).count(),
            "cutoff_run_seconds": cutoff_seconds,
            "accepted_before_cutoff": self.accepted_before,
            "accepted_after_cutoff": self.accepted_after,
            "refused_after_cutoff": self.refused_after,
            "refused_started_before_cutoff": self.refused_before,
            "student_pool_exhausted_409": self.pool_exhausted,
            "orders_in_database": orders.count(),
            "orders_created_after_cutoff_in_database": late_in_db,
        }


# --- statement_read ------------------------------------------------------------------------


class StatementRead(ThroughputScenario):
    """Guardians page through their child's card statement (20 a page, following `next`)
    and read their wallet statement, on the pre-filled ledger."""

    name = "statement_read"
    requires = (f"{API}/wallet/statement", f"{API}/students/1/card/statement")

    def __init__(self, ctx, pool: list[int]):
        super().__init__(ctx)
        self.pool = pool

    async def step(self, client, stats):
        ctx = self.ctx
        i = ctx.rng.choice(self.pool)
        headers = ctx.bearer(i)
        path = f"{API}/students/{ctx.student_ids[i]}/card/statement?page_size=20"
        pages = 0
        while path and pages < 3:
            reply = await client.request("GET", path, headers=headers)
            stats.record(reply, ok=reply.status == 200)
            data = reply.json() if reply.status == 200 else None
            following = data.get("next") if isinstance(data, dict) else None
            path = following[following.index("/api/") :] if following else None
            pages += 1
        reply = await client.request("GET", f"{API}/wallet/statement?page_size=20", headers=headers)
        stats.record(reply, ok=reply.status == 200)


# --- event_signup_burst ---------------------------------------------------------------------


SIGNATURE = {"width": 300, "height": 100, "strokes": [[[12, 60], [40, 22], [75, 70], [110, 30], [150, 64], [200, 28], [260, 55]]]}


class EventSignupBurst(Scenario):
    """200 guardians sign their children up for a free 50-place event at the same moment:
    exactly 50 confirmed, the rest waitlisted, every time."""

    name = "event_signup_burst"
    kind = "invariant"
    requires = (f"{API}/events/1/signups",)
    signups = 200
    capacity = 50

    def setup(self):
        from events.services.lifecycle import event_create, event_publish
        from guardians.models import StaffMember

        ctx = self.ctx
        staff = StaffMember.objects.select_related("user", "school").get(pk=ctx.manifest["staff_id"])
        self.children = ctx.students_of(ctx.manifest["event_school_index"])[: self.signups]
        if len(self.children) < self.signups:
            raise RuntimeError(f"the event school has {len(self.children)} students, the burst needs {self.signups}")
        now = datetime.now(UTC)
        self.events = []
        for n in range(ctx.profile["burst_events"]):
            event = event_create(
                staff=staff,
                form={"body": "Excursion to the museum. Students travel by coach.", "statement": "I give consent for my child to attend."},
                title=f"Bench excursion {n + 1}",
                kind="excursion",
                location="Museum",
                starts_at=now + timedelta(days=14),
                ends_at=now + timedelta(days=14, hours=6),
                signup_deadline=now + timedelta(days=7),
                cost=0,
                capacity=self.capacity,
            )
            event, _ = event_publish(event_id=event.pk, staff=staff)
            self.events.append((event.pk, event.consent_form.content_hash))
        # Families sign up after the publication's notice reached them: its jobs (one per guardian of
        # the school) are done before the burst, rather than taking the worker's share of the CPU in it.
        self.extra["publication_notices_delivered_s"] = self._publication_notices_delivered()

    async def load(self) -> Stats:
        ctx = self.ctx
        client = Client(ctx.port)
        stats = Stats()
        await self.measuring()
        started = time.perf_counter()
        self.confirmed_in_replies = []
        for event_id, form_hash in self.events:
            replies = await asyncio.gather(
                *(
                    client.request(
                        "POST",
                        f"{API}/events/{event_id}/signups",
                        headers={**ctx.bearer(i), **idempotency()},
                        json_body={
                            "student_id": ctx.student_ids[i],
                            "form_hash": form_hash,
                            "answers": {},
                            "signature": SIGNATURE,
                            "typed_name": "Bench Guardian",
                            "consent_statement_accepted": True,
                        },
                    )
                    for i in self.children
                )
            )
            confirmed = 0
            for reply in replies:
                status = (reply.json() or {}).get("status") if reply.status == 201 else None
                confirmed += status == "confirmed"
                stats.record(reply, ok=reply.status == 201 and status in ("confirmed", "waitlisted"))
            self.confirmed_in_replies.append(confirmed)
        stats.first_started = started
        # Measured until the notices are out, so the CPU per sign-up includes the worker's jobs.
        self.notices_delivered_after = await asyncio.to_thread(self._notices_delivered_after, time.perf_counter())
        return stats

    def check(self) -> dict:
        from events.models import Signup

        confirmed, waitlisted = [], []
        for event_id, _ in self.events:
            confirmed.append(Signup.objects.filter(event_id=event_id, status="confirmed").count())
            waitlisted.append(Signup.objects.filter(event_id=event_id, status="waitlisted").count())
        return {
            "events": len(self.events),
            "signups_per_event": self.signups,
            "capacity": self.capacity,
            "confirmed": confirmed,
            "waitlisted": waitlisted,
            "confirmed_in_replies": self.confirmed_in_replies,
            # The worker delivers the notices while and after the answers go out: how long after the
            # last answer the last family's notice was delivered.
            "notices_delivered_s_after_last_reply": self.notices_delivered_after,
        }

    def _publication_notices_delivered(self, timeout: float = 300) -> float:
        from core.models import Notification

        started = time.perf_counter()
        undelivered = Notification.objects.filter(
            kind="event_published", data__event_id__in=[event_id for event_id, _ in self.events], pushed_at__isnull=True,
            user__guardian__notify_by_push=True,
        )
        while undelivered.exists():
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"the publication's notices were not delivered in {timeout} s")
            time.sleep(0.2)
        return round(time.perf_counter() - started, 2)

    def _notices_delivered_after(self, last_reply_at: float, timeout: float = 120) -> float | None:
        from core.models import Notification

        signups = len(self.events) * self.signups
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            delivered = Notification.objects.filter(
                kind="event_signup", data__event_id__in=[event_id for event_id, _ in self.events], pushed_at__isnull=False
            ).count()
            if delivered >= signups:
                return round(time.perf_counter() - last_reply_at, 2)
            time.sleep(0.1)
        return None
