"""The benchmark's data: schools, families, cards, merchants, vouchers, menus and a ledger history.

Reproducible from a seed (names, amounts, identifiers, keys, voucher numbers and
secrets all come from one `random.Random(seed)`), and fast: every large table is
written with COPY, the ledger as whole balanced transactions in one database
transaction, so the deferred balance trigger of wallet/migrations/0002 checks
every one of them at commit. Running balances (`balance_after`) are computed in
entry-id order and cached balances are the sums, so reconciliation passes.

The few rows with behaviour attached (programs, terminals, events) go through
the domain services, so they are exactly what the application would create.

Returns (and writes) a manifest: what the load generator needs to know (ids,
card identifiers, terminal keys, voucher numbers and TOTP secrets).
"""

import hashlib
import json
import random
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from api.models import IdempotencyRecord
from bench.bulk import copy_rows, next_id, reset_sequences
from bench.views import COUNTER_ROWS
from canteen.models import CanteenSettings, FoodProfile, MenuItem
from guardians.models import Guardian, GuardianLink, ProgramAdministrator, School, StaffMember, Student, Term, User
from vouchers import numbers
from vouchers.models import ApprovalStatus, IssueWindow, ProviderApproval, Voucher, VoucherState
from vouchers.services import program_create
from wallet.accounts import PROCESSOR_CLEARING
from wallet.cards import card_identifier_hash, normalise_card_identifier
from wallet.models import (
    Account,
    AccountKind,
    CardAcceptance,
    CardCharge,
    Entry,
    LedgerTransaction,
    Merchant,
    SpendingControls,
    StudentCard,
    TopUp,
)
from wallet.terminal_keys import terminal_create

PROFILES = {
    "full": {
        "schools": 50,
        "students": 20_000,
        "merchants": 200,
        "vouchers": 50_000,
        "ledger_entries": 1_000_000,
        # Students of the canteen_rush school: each order before the cut-off needs its own child.
        "rush_students": 6_000,
    },
    "quick": {
        "schools": 10,
        "students": 3_000,
        "merchants": 40,
        "vouchers": 5_000,
        "ledger_entries": 100_000,
        "rush_students": 1_200,
    },
}

FIRST_NAMES = "Mia Leo Ava Noah Isla Oliver Grace Jack Zoe Lucas Chloe Henry Ruby Liam Ella Max Sophie Ethan Aria Finn".split()
LAST_NAMES = "Nguyen Smith Jones Williams Brown Wilson Taylor Johnson White Martin Anderson Thompson Tran Lee Walker Harris Ryan Kelly".split()
ALLERGENS = ["peanut", "tree_nut", "milk", "egg", "sesame", "fish", "shellfish", "soy", "gluten", "lupin"]
PROVIDER_CATEGORIES = ["sport", "creative", "music", "dining", "entertainment"]
# Four child programs; the last accepts every provider category, so the race has terminals enough.
PROGRAMS = [
    {"code": "bench-active-kids", "name": "Active Kids (bench)", "categories": ["sport"], "face_value": 10_000},
    {"code": "bench-creative-kids", "name": "Creative Kids (bench)", "categories": ["creative", "music"], "face_value": 10_000},
    {"code": "bench-first-lap", "name": "First Lap (bench)", "categories": ["sport"], "face_value": 5_000},
    {"code": "bench-holidays", "name": "School Holidays (bench)", "categories": PROVIDER_CATEGORIES, "face_value": 7_500},
]
RACE_PROGRAM = 3
# A week of menus: a lunch special each weekday, and snacks, drinks and fruit every day.
WEEKDAY_LUNCHES = ["Chicken wrap", "Beef lasagne", "Vegetable curry", "Fish tacos", "Pizza slice", "Sushi rolls", "Pasta bake"]
EVERYDAY_ITEMS = [
    ("Banana bread", "snack", 300, ["gluten", "egg", "milk"]),
    ("Fruit cup", "fruit", 250, []),
    ("Apple", "fruit", 120, []),
    ("Water", "drink", 200, []),
    ("Milk (flavoured)", "drink", 280, ["milk"]),
    ("Orange juice", "drink", 300, []),
    ("Cheese toastie", "lunch", 550, ["gluten", "milk"]),
    ("Rice paper rolls", "lunch", 600, ["soy"]),
    ("Yoghurt", "snack", 220, ["milk"]),
]
SYDNEY = "Australia/Sydney"
LEDGER_CHUNKS = 16
TOPUP_COLUMNS = ["id", "guardian_id", "amount", "fee", "payment_intent_id", "status", "credit_transaction_id", "created_at", "succeeded_at", "charge_id"]
CHARGE_COLUMNS = ["id", "terminal_id", "merchant_id", "student_id", "card_id", "amount", "categories", "description", "transaction_id", "created_at"]


def card_identifier(seed: int, index: int) -> str:
    return normalise_card_identifier(f"TBX-{seed:03d}-{index:07d}")


def terminal_key(rng: random.Random, index: int) -> str:
    secret = "".join(rng.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(43))
    return f"tbx_term_b{index:05d}_{secret}"


class Generator:
    def __init__(self, *, profile: str, seed: int):
        self.size = PROFILES[profile]
        self.profile = profile
        self.seed = seed
        self.rng = random.Random(seed)
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.today = self.now.date()
        self.timings: dict[str, float] = {}

    def _timed(self, name, fn, *args):
        started = time.perf_counter()
        result = fn(*args)
        self.timings[name] = round(time.perf_counter() - started, 2)
        return result

    # --- People ------------------------------------------------------------------

    def schools(self):
        n = self.size["schools"]
        first = next_id(School)
        rows = []
        for i in range(n):
            rows.append((first + i, f"Bench School {i:02d}" if i else "Bench Rush School", f"bench-{self.seed}-{i:02d}", SYDNEY, dtime(8, 30), f"2{i:03d}"))
        copy_rows(School, ["id", "name", "code", "time_zone", "canteen_cutoff", "postcode"], rows)
        self.school_ids = [row[0] for row in rows]
        term_first = next_id(Term)
        copy_rows(
            Term,
            ["id", "school_id", "name", "starts_on", "ends_on"],
            [(term_first + i, sid, "Bench term", self.today - timedelta(days=90), self.today + timedelta(days=60)) for i, sid in enumerate(self.school_ids)],
        )

    def people(self):
        rng = self.rng
        n = self.size["students"]
        rush = self.size["rush_students"]
        others = len(self.school_ids) - 1
        # The rush school first, then the others round-robin: each school's students are contiguous ranges.
        school_of = [0] * rush + [1 + (i % others) for i in range(n - rush)]
        school_of.sort()
        self.student_school = school_of
        user_first, guardian_first, student_first, link_first = next_id(User), next_id(Guardian), next_id(Student), next_id(GuardianLink)
        self.user_ids = [user_first + i for i in range(n)]
        self.guardian_ids = [guardian_first + i for i in range(n)]
        self.student_ids = [student_first + i for i in range(n)]
        joined = self.now - timedelta(days=120)
        users, guardians, students, links = [], [], [], []
        for i in range(n):
            last = rng.choice(LAST_NAMES)
            users.append((self.user_ids[i], "!", f"bench{self.seed}.guardian{i}@example.com", rng.choice(FIRST_NAMES), last, joined))
            guardians.append((self.guardian_ids[i], self.user_ids[i], f"2{school_of[i]:03d}", joined))
            year = rng.randrange(0, 13)
            dob = date(self.today.year - 5 - year, rng.randrange(1, 13), rng.randrange(1, 29))
            students.append(
                (self.student_ids[i], self.school_ids[school_of[i]], rng.choice(FIRST_NAMES), last, dob, year, f"{year}{'ABC'[i % 3]}", f"S{i:07d}", joined)
            )
            links.append((link_first + i, self.guardian_ids[i], self.student_ids[i], "parent", True, True, "school_code", joined))
        copy_rows(User, ["id", "password", "email", "first_name", "last_name", "date_joined"], users)
        copy_rows(Guardian, ["id", "user_id", "postcode", "created_at"], guardians)
        copy_rows(
            Student,
            ["id", "school_id", "first_name", "last_name", "date_of_birth", "year_level", "roll_class", "student_number", "created_at"],
            students,
        )
        copy_rows(
            GuardianLink, ["id", "guardian_id", "student_id", "relationship", "can_manage_money", "can_give_consent", "origin", "created_at"], links
        )
        self.first_names = [row[2] for row in students]

    # --- Merchants, terminals, menus ------------------------------------------------

    def merchants(self):
        rng = self.rng
        n_schools = len(self.school_ids)
        providers = self.size["merchants"] - n_schools
        first = next_id(Merchant)
        rows = []
        self.canteen_merchant = []
        self.provider_merchants = []  # (merchant_id, category)
        for i, sid in enumerate(self.school_ids):
            rows.append((first + i, f"Canteen of Bench School {i:02d}", ["canteen"], sid))
            self.canteen_merchant.append(first + i)
        for j in range(providers):
            category = PROVIDER_CATEGORIES[j % len(PROVIDER_CATEGORIES)]
            mid = first + n_schools + j
            rows.append((mid, f"Bench {category} provider {j:03d}", [category], None))
            self.provider_merchants.append((mid, category))
        copy_rows(Merchant, ["id", "name", "categories", "school_id"], rows)
        # Each school's canteen may charge that school's cards; the providers charge no card.
        first_acceptance = next_id(CardAcceptance)
        copy_rows(
            CardAcceptance,
            ["id", "school_id", "merchant_id"],
            [(first_acceptance + i, sid, self.canteen_merchant[i]) for i, sid in enumerate(self.school_ids)],
        )
        # Two terminals each, through the service (the keys come from the seed).
        merchants = {m.pk: m for m in Merchant.objects.filter(pk__gte=first)}
        self.terminal_keys: dict[int, list[str]] = {}
        index = 0
        for mid in sorted(merchants):
            keys = []
            for t in range(2):
                key = terminal_key(rng, index)
                terminal_create(merchant=merchants[mid], label=f"Bench terminal {t + 1}", raw_key=key)
                keys.append(key)
                index += 1
            self.terminal_keys[mid] = keys

    def menus(self):
        first = next_id(MenuItem)
        rows = []
        self.menu: list[list[dict]] = []
        item_id = first
        for sid in self.school_ids:
            items = []
            for weekday, name in enumerate(WEEKDAY_LUNCHES):
                allergens = ["fish"] if "Fish" in name else ["gluten"] if name in ("Beef lasagne", "Pizza slice", "Pasta bake") else []
                rows.append((item_id, sid, name, 650 + 25 * weekday, "lunch", allergens, [weekday], False))
                items.append({"id": item_id, "price": 650 + 25 * weekday, "allergens": allergens, "weekdays": [weekday], "category": "lunch"})
                item_id += 1
            for name, category, price, allergens in EVERYDAY_ITEMS:
                rows.append((item_id, sid, name, price, category, allergens, [], False))
                items.append({"id": item_id, "price": price, "allergens": allergens, "weekdays": [], "category": category})
                item_id += 1
            self.menu.append(items)
        copy_rows(MenuItem, ["id", "school_id", "name", "price", "category", "allergens", "weekdays", "late_menu"], rows)
        copy_rows(
            CanteenSettings,
            ["id", "school_id", "merchant_id", "service_weekdays", "max_weeks_ahead"],
            # The rush school serves every day, so the benchmark runs on any day of the week.
            [(next_id(CanteenSettings) + i, sid, self.canteen_merchant[i], list(range(7)) if i == 0 else [0, 1, 2, 3, 4], 4) for i, sid in enumerate(self.school_ids)],
        )

    # --- Cards, controls, food profiles -------------------------------------------------

    def cards(self):
        rng = self.rng
        card_first, controls_first, profile_first = next_id(StudentCard), next_id(SpendingControls), next_id(FoodProfile)
        issued = self.now - timedelta(days=100)
        cards, controls, profiles = [], [], []
        self.allergens: dict[int, list[str]] = {}
        self.card_ids = []
        for i, student_id in enumerate(self.student_ids):
            identifier = card_identifier(self.seed, i)
            cards.append((card_first + i, student_id, card_identifier_hash(identifier), identifier[-4:], "active", issued, issued))
            self.card_ids.append(card_first + i)
            # Every card has caps, so every charge runs the cap queries; high enough never to decline in a run
            # (the hot scenario sells to one school's cards over and over: at $30 a day, a third of its sales
            # were cap declines once the paths got fast, and a decline is cheaper than a sale).
            controls.append((controls_first + i, student_id, rng.choice([30000, 40000, 50000]), rng.choice([120000, 150000, 200000]), [], 500))
            allergens = sorted(rng.sample(ALLERGENS, rng.choice([1, 1, 2]))) if rng.random() < 0.12 else []
            if allergens:
                self.allergens[i] = allergens
            profiles.append((profile_first + i, student_id, allergens, [], [], [], issued))
        copy_rows(StudentCard, ["id", "student_id", "identifier_hash", "identifier_last4", "status", "issued_at", "status_changed_at"], cards)
        copy_rows(SpendingControls, ["id", "student_id", "daily_cap", "weekly_cap", "banned_categories", "low_balance_threshold"], controls)
        copy_rows(FoodProfile, ["id", "student_id", "allergens", "dietary_needs", "banned_item_ids", "banned_categories", "updated_at"], profiles)

    # --- The ledger ------------------------------------------------------------------

    def ledger(self):
        """Top-ups into wallets, wallet-to-card funding and card charges, sixty days of them.

        Each student's story is ordered so no balance that may not go negative ever does:
        top-up 1 covers funds 1-3, top-up 2 funds 4-5, each fund covers the charges after it.
        """
        built_from = time.perf_counter()
        rng = self.rng
        n = len(self.student_ids)
        account_first = next_id(Account)
        clearing_id = account_first
        wallet_id = [account_first + 1 + i for i in range(n)]
        card_account_id = [account_first + 1 + n + i for i in range(n)]
        merchant_ids = self.canteen_merchant + [m for m, _ in self.provider_merchants]
        payable_id = {mid: account_first + 1 + 2 * n + j for j, mid in enumerate(merchant_ids)}
        opened = self.now - timedelta(days=120)

        per_student_tx = self.size["ledger_entries"] / 2 / n
        charges_mean = max(2.0, per_student_tx - 7 + 0.6)
        lo, hi = max(1, int(charges_mean) - 6), int(charges_mean) + 7

        events = []  # (timestamp, student index, kind, amount, merchant id)
        start = self.now - timedelta(days=62)
        for i in range(n):
            charges = rng.randint(lo, hi)
            blocks = [[] for _ in range(5)]
            for c in range(charges):
                blocks[c % 5].append(rng.randrange(150, 900, 10))
            funds = [sum(block) + rng.randrange(500, 3000, 100) for block in blocks]
            funds[-1] += 6000  # what stays on the card for the benchmark's charges
            topups = [sum(funds[:3]) + rng.randrange(1000, 4000, 100), sum(funds[3:]) + 8000 + rng.randrange(0, 4000, 100)]
            offset = timedelta(seconds=rng.randrange(0, 36_000))
            canteen = self.canteen_merchant[self.student_school[i]]
            events.append((start + offset, i, 0, topups[0], None))
            for b in range(5):
                day0 = start + timedelta(days=12 * b) + offset
                if b == 3:
                    events.append((day0 - timedelta(hours=1), i, 0, topups[1], None))
                events.append((day0 + timedelta(minutes=5), i, 1, funds[b], None))
                for k, amount in enumerate(blocks[b]):
                    when = day0 + timedelta(days=1 + k * 11 / max(1, len(blocks[b])), minutes=rng.randrange(0, 300))
                    merchant = canteen if rng.random() < 0.85 else self.provider_merchants[rng.randrange(len(self.provider_merchants))][0]
                    events.append((when, i, 2, amount, merchant))
        events.sort(key=lambda e: (e[0], e[1], e[2]))

        tx_first, entry_first, topup_first, charge_first = next_id(LedgerTransaction), next_id(Entry), next_id(TopUp), next_id(CardCharge)
        balance: dict[int, int] = {}
        transactions, entries, topup_rows, charge_rows = [], [], [], []
        tx_id, entry_id = tx_first, entry_first
        terminal_of = {mid: self._terminal_ids[mid] for mid in merchant_ids}
        for when, i, kind, amount, merchant in events:
            if kind == 0:
                legs = ((clearing_id, -amount), (wallet_id[i], amount))
                pi = f"pi_bench_{self.seed}_{tx_id}"
                transactions.append((tx_id, "topup", f"topup:{pi}", f"Card top-up {topup_first + len(topup_rows)}", "stripe", {"bench": True}, when))
                # (every transaction here has exactly two entries: chunks slice `entries` by transaction id)
                topup_rows.append((topup_first + len(topup_rows), self.guardian_ids[i], amount, 0, pi, "succeeded", tx_id, when, when, f"ch_bench_{tx_id}"))
            elif kind == 1:
                legs = ((wallet_id[i], -amount), (card_account_id[i], amount))
                transactions.append((tx_id, "card_fund", f"card_fund:bench:{tx_id}", f"To {self.first_names[i]}'s card", f"user:{self.user_ids[i]}", {"student_id": self.student_ids[i]}, when))
            else:
                legs = ((card_account_id[i], -amount), (payable_id[merchant], amount))
                terminal = terminal_of[merchant]
                transactions.append((tx_id, "card_charge", f"card_charge:terminal:{terminal}:bench-{tx_id}", "Bench sale", f"terminal:{terminal}", {"merchant_id": merchant, "categories": ["canteen"]}, when))
                charge_rows.append((charge_first + len(charge_rows), terminal, merchant, self.student_ids[i], self.card_ids[i], amount, ["canteen"], "Bench sale", tx_id, when))
            for account, delta in legs:
                after = balance.get(account, 0) + delta
                balance[account] = after
                entries.append((entry_id, tx_id, account, delta, after, when))
                entry_id += 1
            tx_id += 1

        accounts = [(clearing_id, AccountKind.PROCESSOR_CLEARING.value, "Payment processor clearing", PROCESSOR_CLEARING, None, None, None, True, balance.get(clearing_id, 0), opened)]
        for i in range(n):
            accounts.append((wallet_id[i], AccountKind.GUARDIAN_WALLET.value, f"Wallet of guardian {self.guardian_ids[i]}", None, self.guardian_ids[i], None, None, False, balance.get(wallet_id[i], 0), opened))
        for i in range(n):
            accounts.append((card_account_id[i], AccountKind.STUDENT_CARD.value, f"Card balance of student {self.student_ids[i]}", None, None, self.student_ids[i], None, False, balance.get(card_account_id[i], 0), opened))
        for mid, aid in payable_id.items():
            accounts.append((aid, AccountKind.MERCHANT_PAYABLE.value, f"Payable to merchant {mid}", None, None, None, mid, True, balance.get(aid, 0), opened))

        self.timings["ledger_build"] = round(time.perf_counter() - built_from, 2)
        loaded_from = time.perf_counter()
        copy_rows(Account, ["id", "kind", "name", "system_code", "guardian_id", "student_id", "merchant_id", "allow_negative", "balance", "created_at"], accounts)
        # The history in chunks of whole ledger transactions, each chunk one database transaction (so the
        # deferred trigger checks each ledger transaction at its chunk's commit), two chunks at a time on
        # two connections: the server's index and trigger work runs beside the next chunk's COPY.
        topup_of = {row[6]: row for row in topup_rows}
        charge_of = {row[8]: row for row in charge_rows}
        chunk = max(1, len(transactions) // LEDGER_CHUNKS + 1)

        def load(k: int) -> None:
            try:
                part = transactions[k * chunk : (k + 1) * chunk]
                if not part:
                    return
                first, last = part[0][0], part[-1][0]
                with transaction.atomic():
                    copy_rows(LedgerTransaction, ["id", "kind", "reference", "memo", "actor", "metadata", "created_at"], part)
                    copy_rows(Entry, ["id", "transaction_id", "account_id", "amount", "balance_after", "created_at"], (e for e in entries[2 * (first - tx_first) : 2 * (last - tx_first + 1)]))
                    copy_rows(TopUp, TOPUP_COLUMNS, (topup_of[t[0]] for t in part if t[0] in topup_of))
                    copy_rows(CardCharge, CHARGE_COLUMNS, (charge_of[t[0]] for t in part if t[0] in charge_of))
            finally:
                connection.close()

        with ThreadPoolExecutor(2) as pool:
            list(pool.map(load, range(LEDGER_CHUNKS)))
        self.timings["ledger_load"] = round(time.perf_counter() - loaded_from, 2)
        self.ledger_counts = {"transactions": len(transactions), "entries": len(entries), "card_charges": len(charge_rows), "topups": len(topup_rows)}

    def idempotency_keys(self):
        """The Idempotency-Key records an average day of this history leaves behind (they live 24 h):
        one answered key per ledger transaction of the day, from the canteens' terminals.

        Production never has an empty table. Starting the run with one made the first scenario's
        claims and stored answers run on the plans PostgreSQL made for an empty table, sequential
        scans, until autovacuum analysed it a minute later: 0.45 + 0.32 ms of PostgreSQL CPU a sale,
        against 0.08 + 0.07 once analysed (pg_stat_statements, docs/performance.md)."""
        rng = self.rng
        per_day = self.ledger_counts["transactions"] // 62
        terminals = [self._terminal_ids[merchant] for merchant in self.canteen_merchant]
        first = next_id(IdempotencyRecord)
        rows = []
        for k in range(per_day):
            created = self.now - timedelta(seconds=rng.randrange(0, 86_400))
            body = json.dumps({"charge_id": k + 1, "status": "approved", "amount": rng.randrange(150, 900, 10), "remaining_balance": rng.randrange(0, 9000, 10),
                               "lines": [], "student_first_name": "Mia", "student_last_initial": "N"}).encode()
            rows.append((first + k, f"terminal:{rng.choice(terminals)}", f"{rng.getrandbits(128):032x}", f"{rng.getrandbits(256):064x}", "POST",
                         "/api/v1/terminal/canteen/sales", 201, body, "application/json", created, created, created + timedelta(hours=24)))
        copy_rows(IdempotencyRecord, ["id", "caller", "key", "request_fingerprint", "method", "path", "status_code", "response_body",
                                      "response_content_type", "locked_at", "created_at", "expires_at"], rows)
        self.idempotency_count = len(rows)

    # --- Vouchers -------------------------------------------------------------------

    def vouchers(self):
        rng = self.rng
        admin_user = User.objects.create(email=f"bench{self.seed}.programs@example.com", first_name="Program", last_name="Admin", password="!")
        admin = ProgramAdministrator.objects.create(user=admin_user)
        programs = []
        for spec in PROGRAMS:
            programs.append(
                program_create(
                    created_by=admin,
                    windows=[],
                    name=spec["name"],
                    code=f"{spec['code']}-{self.seed}",
                    beneficiary_kind="child",
                    face_value=spec["face_value"],
                    time_zone=SYDNEY,
                    starts_on=self.today - timedelta(days=200),
                    categories=spec["categories"],
                )
            )
        approvals = []
        approval_first = next_id(ProviderApproval)
        self.program_terminals: list[list[str]] = []
        for p, program in enumerate(programs):
            keys = []
            for mid, category in self.provider_merchants:
                if category in PROGRAMS[p]["categories"]:
                    approvals.append(
                        (approval_first + len(approvals), program.pk, mid, [category], ApprovalStatus.APPROVED.value, "51824753556",
                         self.today + timedelta(days=365), self.today + timedelta(days=365), admin_user.pk, self.now - timedelta(days=30))
                    )
                    keys.extend(self.terminal_keys[mid])
            self.program_terminals.append(keys)
        copy_rows(ProviderApproval, ["id", "program_id", "merchant_id", "categories", "status", "abn", "insurance_expires_on", "wwcc_expires_on", "decided_by_id", "decided_at"], approvals)

        windows = {w.program_id: w.pk for w in IssueWindow.objects.filter(program__in=programs)}
        expires_on = self.today + timedelta(days=90)
        expires_at = datetime.combine(expires_on + timedelta(days=1), dtime(0), tzinfo=ZoneInfo(SYDNEY)).astimezone(UTC)
        per_program = self.size["vouchers"] // len(programs)
        first = next_id(Voucher)
        rows, self.voucher_list = [], []
        issued_at = self.now - timedelta(days=30)
        n = len(self.student_ids)
        seen_numbers = set()
        for p, program in enumerate(programs):
            for i in rng.sample(range(n), per_program):
                number = numbers.from_int(rng.getrandbits(numbers.RANDOM_BITS))
                while number in seen_numbers:
                    number = numbers.from_int(rng.getrandbits(numbers.RANDOM_BITS))
                seen_numbers.add(number)
                secret = f"{rng.getrandbits(160):040x}"
                vid = first + len(rows)
                face = PROGRAMS[p]["face_value"]
                rows.append(
                    (vid, program.pk, windows[program.pk], self.today.year, 1, number, secret, self.user_ids[i], self.student_ids[i],
                     f"student:{self.student_ids[i]}", self.school_ids[self.student_school[i]], face, face, VoucherState.ISSUED.value, SYDNEY,
                     issued_at.date(), issued_at, expires_on, expires_at, "bulk")
                )
                self.voucher_list.append([vid, number, secret, p, face])
        # Each voucher's value reserved in its own account at issue (vouchers/reserves.py): one ledger
        # transaction per program, funding -> reserves, as issuing posts it.
        reserve_first, tx_first, entry_first = next_id(Account), next_id(LedgerTransaction), next_id(Entry)
        reserves, transactions, entries, funding_after = [], [], [], {}
        rows = [(*row, reserve_first + k) for k, row in enumerate(rows)]
        for p, program in enumerate(programs):
            tx_id = tx_first + p
            mine = [row for row in rows if row[1] == program.pk]
            total = sum(row[11] for row in mine)
            transactions.append((tx_id, "voucher_reserve", f"voucher_reserve:bench:{self.seed}:{program.pk}", f"{program.name}: vouchers issued", "system", {"program_id": program.pk}, issued_at))
            funding_after[program.funding_account_id] = -total
            entries.append((entry_first + len(entries), tx_id, program.funding_account_id, -total, -total, issued_at))
            for row in mine:
                reserves.append((row[-1], "voucher_funding", f"Reserve of voucher {row[5]}", False, row[11], issued_at))
                entries.append((entry_first + len(entries), tx_id, row[-1], row[11], row[11], issued_at))
        with transaction.atomic():
            copy_rows(Account, ["id", "kind", "name", "allow_negative", "balance", "created_at"], reserves)
            copy_rows(LedgerTransaction, ["id", "kind", "reference", "memo", "actor", "metadata", "created_at"], transactions)
            copy_rows(Entry, ["id", "transaction_id", "account_id", "amount", "balance_after", "created_at"], entries)
            for account_id, balance in funding_after.items():
                Account.objects.filter(pk=account_id).update(balance=balance)
        copy_rows(
            Voucher,
            ["id", "program_id", "issue_window_id", "period_year", "sequence", "number", "totp_secret", "holder_id", "student_id",
             "beneficiary_key", "school_id", "face_value", "remaining_value", "state", "time_zone", "issued_on", "issued_at",
             "expires_on", "expires_at", "issue_source", "reserve_account_id"],
            rows,
        )
        rng.shuffle(self.voucher_list)
        self.program_ids = [program.pk for program in programs]

    # --- Staff (for events) and the baseline's tables ------------------------------------

    def staff(self):
        # Events are made at the largest ordinary school: the burst needs 200 children there.
        self.event_school_index = 1
        user = User.objects.create(email=f"bench{self.seed}.staff@example.com", first_name="Staff", last_name="Member", password="!")
        self.staff_id = StaffMember.objects.create(user=user, school_id=self.school_ids[self.event_school_index], roles=["admin", "teacher"]).pk

    def baseline_tables(self):
        with connection.cursor() as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS bench_counter (id integer PRIMARY KEY, value bigint NOT NULL)")
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS bench_log (id bigserial PRIMARY KEY, counter_id integer NOT NULL, "
                "value bigint NOT NULL, created_at timestamptz NOT NULL DEFAULT now())"
            )
            cursor.execute("TRUNCATE bench_counter, bench_log")
            cursor.execute("INSERT INTO bench_counter SELECT g, 0 FROM generate_series(0, %s) g", [COUNTER_ROWS - 1])

    # --- All of it ------------------------------------------------------------------------

    def run(self) -> dict:
        started = time.perf_counter()
        self._timed("schools", self.schools)
        self._timed("people", self.people)
        self._timed("merchants", self.merchants)
        from wallet.models import Terminal

        self._terminal_ids = {}
        for terminal in Terminal.objects.order_by("pk"):
            self._terminal_ids.setdefault(terminal.merchant_id, terminal.pk)
        self._timed("menus", self.menus)
        self._timed("cards", self.cards)
        self._timed("ledger", self.ledger)
        self._timed("idempotency_keys", self.idempotency_keys)
        self._timed("vouchers", self.vouchers)
        self._timed("staff", self.staff)
        self._timed("baseline_tables", self.baseline_tables)
        reset_sequences(School, Term, User, Guardian, Student, GuardianLink, Merchant, CardAcceptance, MenuItem, CanteenSettings, StudentCard,
                        SpendingControls, FoodProfile, Account, LedgerTransaction, Entry, TopUp, CardCharge, ProviderApproval, Voucher)
        self._timed("vacuum_analyze", self._analyze)
        self.timings["total"] = round(time.perf_counter() - started, 2)
        return self.manifest()

    def _analyze(self):
        # VACUUM too, not only ANALYZE: after a million inserted rows autovacuum would otherwise start
        # on the big tables in the middle of the first scenarios, taking CPU from them.
        # Only the tables that hold rows. A table analysed while empty is planned as empty (a
        # sequential scan) until autovacuum analyses it again, a minute or more into the run, while a
        # never-analysed one is assumed to have some pages and gets its index. Production never
        # analyses an empty table, so analysing the empty ones here measured plans it never runs: the
        # redemption's replay look-up and foreign-key checks scanned the growing redemptions table
        # (0.25-0.5 ms of PostgreSQL a redemption, docs/performance.md).
        with connection.cursor() as cursor:
            cursor.execute("SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                           "WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY 1")
            tables = [name for (name,) in cursor.fetchall()]
            filled = []
            for name in tables:
                cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {name})")
                if cursor.fetchone()[0]:
                    filled.append(name)
            cursor.execute(f"VACUUM (ANALYZE) {', '.join(filled)}")

    def manifest(self) -> dict:
        return {
            "seed": self.seed,
            "profile": self.profile,
            "generated_at": self.now.isoformat(),
            "timings_s": self.timings,
            "counts": {
                "schools": len(self.school_ids),
                "students": len(self.student_ids),
                "guardians": len(self.guardian_ids),
                "merchants": len(self.canteen_merchant) + len(self.provider_merchants),
                "terminals": sum(len(keys) for keys in self.terminal_keys.values()),
                "voucher_programs": len(self.program_ids),
                "vouchers": len(self.voucher_list),
                "menu_items": sum(len(items) for items in self.menu),
                **self.ledger_counts,
                "idempotency_keys": self.idempotency_count,
            },
            "school_ids": self.school_ids,
            "rush_school_index": 0,
            "event_school_index": self.event_school_index,
            "staff_id": self.staff_id,
            "canteen_terminal_keys": [self.terminal_keys[mid] for mid in self.canteen_merchant],
            "menus": self.menu,
            "students": {
                "ids": self.student_ids,
                "school_index": self.student_school,
                "user_ids": self.user_ids,
                "allergens": {str(i): a for i, a in self.allergens.items()},
            },
            "card_identifier_format": "TBX-{seed:03d}-{index:07d}",
            "programs": [{"id": pid, **PROGRAMS[p], "terminal_keys": self.program_terminals[p]} for p, pid in enumerate(self.program_ids)],
            "race_program_index": RACE_PROGRAM,
            # [id, number, totp secret, program index, face value], shuffled.
            "vouchers": self.voucher_list,
        }


def generate(*, profile: str, seed: int, manifest_path: Path | None = None) -> dict:
    manifest = Generator(profile=profile, seed=seed).run()
    if manifest_path is not None:
        manifest_path.parent.mkdir(parents=True, exist_ok=True)
        manifest_path.write_text(json.dumps(manifest))
    return manifest


def fingerprint(manifest: dict) -> str:
    """Same seed and profile, same data: a short digest of what was generated, for the results."""
    keys = ("counts", "school_ids", "canteen_terminal_keys", "vouchers")
    return hashlib.sha256(json.dumps({k: manifest[k] for k in keys}, sort_keys=True).encode()).hexdigest()[:16]


assert settings  # settings are configured by the caller (bench.run) before import
