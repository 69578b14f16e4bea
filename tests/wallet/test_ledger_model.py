"""A stateful property test: the wallet and card services against a small in-memory model of the money.

Hypothesis drives random sequences of top-ups, card funding and withdrawals, terminal
charges (random categories, reused idempotency keys, unknown and replaced cards),
partial and full refunds, freezes, losses and replacements, cap changes, and the clock
moving across school days, weeks and daylight-saving changes. The model predicts each
outcome (approved, or the decline's code) and every balance; after every step the
database must agree with it and with the ledger's invariants.

It runs on PostgreSQL outside a test transaction (the services open durable atomic
blocks and rely on row locks), so examples accumulate in the database: the model
compares only the accounts of its own example, and the global invariants hold for all.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from core.errors import DomainError
from guardians.models import School, Student
from tests.factories import GuardianLinkFactory, MerchantFactory, StudentCardFactory
from tests.state_machines import LedgerInvariants, machine_settings
from wallet import accounts, cards, ledger
from wallet.models import Account, CardCharge, CardStatus, LedgerTransaction, MerchantCategory, StudentCard
from wallet.selectors import card_spent
from wallet.terminal_keys import terminal_create

SYDNEY = ZoneInfo("Australia/Sydney")
CHARGE_MAX = django_settings.CARD_CHARGE_MAX_CENTS
REFUND_WINDOW = django_settings.CARD_REFUND_WINDOW
# Guardians may ban these; terminals also send categories nobody can ban.
BANNABLE = [MerchantCategory.CANTEEN, MerchantCategory.UNIFORM_SHOP, MerchantCategory.ENTERTAINMENT]
CHARGE_CATEGORIES = [*BANNABLE, MerchantCategory.SPORT, "raffle"]
# What the terminal's merchant trades: a charge may only narrow these, and must name some (several are registered).
REGISTERED = [MerchantCategory.CANTEEN, MerchantCategory.UNIFORM_SHOP, MerchantCategory.SPORT]
# Where an example's clock starts: mid-week, just before a week turns, around both 2026 DST changes.
START_TIMES = [
    datetime(2026, 11, 25, 10, 0, tzinfo=SYDNEY),  # Wednesday morning
    datetime(2026, 11, 29, 23, 30, tzinfo=SYDNEY),  # Sunday night, a Monday week about to start
    datetime(2026, 10, 3, 23, 30, tzinfo=SYDNEY),  # the night clocks spring forward (23-hour Sunday)
    datetime(2026, 4, 4, 23, 30, tzinfo=SYDNEY),  # the night clocks fall back (25-hour Sunday)
]
# What each card action does, per the service's contract: from which statuses, to which.
CARD_ACTIONS = {
    "freeze": ({CardStatus.ACTIVE}, CardStatus.FROZEN),
    "unfreeze": ({CardStatus.FROZEN}, CardStatus.ACTIVE),
    "report_lost": ({CardStatus.ACTIVE, CardStatus.FROZEN}, CardStatus.LOST),
}


def mostly(usual, rare):
    """`usual` about four times in five: edge cases stay in the mix without crowding out the rest."""
    return st.sampled_from([True, True, True, True, False]).flatmap(lambda pick_usual: usual if pick_usual else rare)


# Caps that let a few charges through before biting, now and then a tiny one or none.
DAILY_CAPS = mostly(st.integers(800, 3_000), st.one_of(st.none(), st.integers(0, 800)))
WEEKLY_CAPS = mostly(st.integers(2_000, 8_000), st.one_of(st.none(), st.integers(0, 2_000)))
# Minutes: mostly within a school day or two, sometimes to the edges of a week and of the refund window.
CLOCK_STEPS = mostly(
    st.integers(0, 36 * 60),
    st.sampled_from([24 * 60, 7 * 24 * 60, 30 * 24 * 60, 30 * 24 * 60 + 1, 31 * 24 * 60]),
)
BANNED = st.lists(st.sampled_from(BANNABLE), max_size=2, unique=True)


@dataclass
class ModelCharge:
    pk: int
    amount: int
    at: datetime
    refunded: int = 0


class LedgerMachine(LedgerInvariants, RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.link = GuardianLinkFactory()
        self.student = self.link.student
        self.school = self.student.school
        merchant = MerchantFactory(school=self.school, categories=REGISTERED)
        self.terminal, _ = terminal_create(merchant=merchant, label="Counter")
        self.wallet_id = accounts.guardian_wallet(self.link.guardian).pk
        self.card_account_id = accounts.student_card_account(self.student).pk
        self.payable_id = accounts.merchant_payable(merchant).pk
        self.clearing_id = accounts.processor_clearing().pk
        self.clearing_start = Account.objects.get(pk=self.clearing_id).balance
        number = self._new_card_number()
        StudentCardFactory(student=self.student, identifier=number)
        self.traveller = None
        self.clock = None
        # The model.
        self.balances = {self.wallet_id: 0, self.card_account_id: 0, self.payable_id: 0, self.clearing_id: 0}
        self.card_statuses = {number: CardStatus.ACTIVE}
        self.current_card = number
        self.daily_cap = self.weekly_cap = None
        self.banned: set[str] = set()
        self.week_starts_on = 0
        self.charges: list[ModelCharge] = []
        self.charge_keys: dict[str, int] = {}  # approved idempotency key -> charge pk
        self.tried_keys: list[str] = []

    def teardown(self):
        if self.traveller is not None:
            self.traveller.stop()

    # --- Set-up ------------------------------------------------------------------

    @initialize(start=st.sampled_from(START_TIMES), week_starts_on=st.integers(0, 6), data=st.data())
    def start(self, start, week_starts_on, data):
        School.objects.filter(pk=self.school.pk).update(week_starts_on=week_starts_on)
        self.week_starts_on = week_starts_on
        self.traveller = time_machine.travel(start, tick=False)
        self.clock = self.traveller.start()
        # Most examples start with money on the card, so charges and refunds get to run.
        wallet_money = data.draw(st.integers(5_000, 20_000), label="initial top-up")
        self.top_up(wallet_money)
        card_money = data.draw(mostly(st.integers(2_000, wallet_money), st.just(0)), label="initial card funding")
        if card_money:
            self.fund_card(card_money, retry=False)
        # ...and with caps, so that the day and week windows are tested from the first charge.
        self.set_controls(
            daily_cap=data.draw(DAILY_CAPS, label="daily cap"),
            weekly_cap=data.draw(WEEKLY_CAPS, label="weekly cap"),
            banned=data.draw(BANNED, label="banned"),
            threshold=None,
        )

    # --- Money in and between the guardian's accounts ----------------------------

    @rule(amount=st.integers(1, 20_000))
    def top_up(self, amount):
        """As a settled card top-up credits the wallet: processor clearing -> wallet."""
        ledger.transfer(
            kind="test_topup",
            reference=f"test_topup:{uuid.uuid4().hex}",
            legs=[ledger.Leg(self.clearing_id, -amount), ledger.Leg(self.wallet_id, amount)],
            actor="test",
        )
        self.balances[self.clearing_id] -= amount
        self.balances[self.wallet_id] += amount

    @rule(amount=mostly(st.integers(1, 15_000), st.integers(-3, 0)), retry=st.booleans())
    def fund_card(self, amount, retry):
        expected = self._expect_move(amount, source=self.wallet_id, maximum=django_settings.TOPUP_MAX_CENTS * 10)
        reference = f"card_fund:{uuid.uuid4().hex}"
        self._check("fund", lambda: cards.card_fund(link=self.link, amount=amount, reference=reference), expected)
        if expected is None:
            self.balances[self.wallet_id] -= amount
            self.balances[self.card_account_id] += amount
            if retry:  # the same reference posts once
                first = LedgerTransaction.objects.get(reference=reference)
                assert cards.card_fund(link=self.link, amount=amount, reference=reference).pk == first.pk

    @rule(amount=mostly(st.integers(1, 5_000), st.just(0)))
    def withdraw_from_card(self, amount):
        expected = self._expect_move(amount, source=self.card_account_id, maximum=ledger.MAX_AMOUNT)
        self._check("withdraw", lambda: cards.card_withdraw(link=self.link, amount=amount, reference=uuid.uuid4().hex), expected)
        if expected is None:
            self.balances[self.card_account_id] -= amount
            self.balances[self.wallet_id] += amount

    # --- Terminal charges and refunds ----------------------------------------------

    # Charges and refunds are what this test is about: two rules each give them twice the steps.
    @rule(data=st.data())
    def charge(self, data):
        self._charge(data)

    @rule(data=st.data())
    def charge_at_lunch(self, data):
        self._charge(data)

    @precondition(lambda self: self.charges)
    @rule(data=st.data())
    def refund(self, data):
        self._refund(data)

    @precondition(lambda self: self.charges)
    @rule(data=st.data())
    def refund_at_the_counter(self, data):
        self._refund(data)

    def _charge(self, data):
        amount = data.draw(mostly(st.integers(1, 1_500), st.sampled_from([0, CHARGE_MAX, CHARGE_MAX + 1])), label="amount")
        categories = data.draw(st.lists(st.sampled_from(CHARGE_CATEGORIES), max_size=2, unique=True), label="categories")
        number = data.draw(
            mostly(st.just(self.current_card), st.sampled_from([*self.card_statuses, "NO-SUCH-CARD-1"])), label="card"
        )
        reuse = bool(self.tried_keys) and data.draw(st.booleans(), label="reuse key")
        key = data.draw(st.sampled_from(self.tried_keys), label="key") if reuse else uuid.uuid4().hex
        self.tried_keys.append(key)

        expected = self._expect_charge(amount, categories, number, key)
        call = lambda: cards.card_charge(  # noqa: E731
            terminal=self.terminal,
            card_identifier=number,
            amount=amount,
            categories=categories,
            description="Snack",
            idempotency_key=key,
        )
        if expected == "replay":
            event("charge: replayed")
            approved = call()
            assert approved.replayed and approved.charge.pk == self.charge_keys[key]
            return
        approved = self._check("charge", call, expected)
        if expected is None:
            assert not approved.replayed
            self.balances[self.card_account_id] -= amount
            self.balances[self.payable_id] += amount
            self.charges.append(ModelCharge(pk=approved.charge.pk, amount=amount, at=self._now()))
            self.charge_keys[key] = approved.charge.pk
            assert approved.remaining_balance == self.balances[self.card_account_id]

    @precondition(lambda self: self.charges)
    @rule(data=st.data(), offset=st.sampled_from([-1, 0, 1]))
    def refund_at_the_window_edge(self, data, offset):
        """Move the clock to a minute either side of (or exactly at) a charge's refund deadline, then refund."""
        charge = data.draw(st.sampled_from(self.charges), label="charge")
        deadline = charge.at + REFUND_WINDOW + timedelta(minutes=offset)
        if deadline > self._now():
            self.clock.shift(deadline - self._now())
        self._refund(data, charge=charge)

    def _refund(self, data, charge=None):
        charge = charge or data.draw(st.sampled_from(self.charges), label="charge")
        amount = data.draw(st.one_of(st.none(), st.integers(1, charge.amount + 100)), label="amount")
        retry = data.draw(st.booleans(), label="retry")
        expected = self._expect_refund(charge, amount)
        key = uuid.uuid4().hex
        call = lambda: cards.card_charge_refund(terminal=self.terminal, charge_id=charge.pk, amount=amount, idempotency_key=key)  # noqa: E731
        refund = self._check("refund", call, expected)
        if expected is None:
            refunded = charge.amount - charge.refunded if amount is None else amount
            assert refund.amount == refunded
            charge.refunded += refunded
            self.balances[self.card_account_id] += refunded
            self.balances[self.payable_id] -= refunded
            if retry:  # the same key refunds once, even though nothing is left to refund now
                assert call().pk == refund.pk

    # --- Card status and controls --------------------------------------------------

    # A lost card stops all charges until it is replaced, so losing one is the rare action.
    @rule(action=mostly(st.sampled_from(["freeze", "unfreeze", "unfreeze"]), st.sampled_from(["freeze", "report_lost"])))
    def change_status(self, action):
        allowed_from, target = CARD_ACTIONS[action]
        status = self.card_statuses[self.current_card]
        expected = None if status == target or status in allowed_from else "card_state_invalid"
        card = StudentCard.objects.get(student=self.student, identifier_last4=self.current_card[-4:])
        self._check(f"card {action}", lambda: cards.card_change_status(link=self.link, card=card, action=action), expected)
        if expected is None:
            self.card_statuses[self.current_card] = target

    @rule()
    def replace_card(self):
        number = self._new_card_number()
        cards.card_issue(student=self.student, identifier=number, issued_by=None)
        for known, status in self.card_statuses.items():
            if status in (CardStatus.ACTIVE, CardStatus.FROZEN):
                self.card_statuses[known] = CardStatus.REPLACED
        self.card_statuses[number] = CardStatus.ACTIVE
        self.current_card = number

    @rule(daily_cap=DAILY_CAPS, weekly_cap=WEEKLY_CAPS, banned=BANNED, threshold=st.one_of(st.none(), st.integers(0, 2_000)))
    def set_controls(self, daily_cap, weekly_cap, banned, threshold):
        cards.spending_controls_update(
            link=self.link, daily_cap=daily_cap, weekly_cap=weekly_cap, banned_categories=banned, low_balance_threshold=threshold
        )
        self.daily_cap, self.weekly_cap, self.banned = daily_cap, weekly_cap, set(banned)

    @rule(delta=CLOCK_STEPS)
    def advance_clock(self, delta):
        """Across local midnights, week starts, DST changes and the refund window."""
        self.clock.shift(timedelta(minutes=delta))

    # --- Invariants ------------------------------------------------------------------

    # The ledger's own invariants come from LedgerInvariants (tests/state_machines.py).

    @invariant()
    def spending_in_the_school_day_and_week_agrees_with_the_model(self):
        if self.clock is None:
            return
        student = Student.objects.select_related("school").get(pk=self.student.pk)
        assert card_spent(student) == self._spent()

    @invariant()
    def the_database_agrees_with_the_model(self):
        balances = dict(Account.objects.filter(pk__in=self.balances).values_list("pk", "balance"))
        balances[self.clearing_id] -= self.clearing_start
        assert balances == self.balances
        refunded = dict(CardCharge.objects.filter(student=self.student).values_list("pk", "refunded_amount"))
        assert refunded == {charge.pk: charge.refunded for charge in self.charges}
        statuses = {card.identifier_last4: card.status for card in StudentCard.objects.filter(student=self.student)}
        assert statuses == {number[-4:]: status for number, status in self.card_statuses.items()}

    # --- The model's predictions -------------------------------------------------------

    def _expect_move(self, amount, *, source, maximum) -> str | None:
        if not 0 < amount <= maximum:
            return "amount_out_of_range"
        if amount > self.balances[source]:
            return "insufficient_funds"
        return None

    def _expect_charge(self, amount, categories, number, key) -> str | None:
        if not 0 < amount <= CHARGE_MAX:
            return "amount_out_of_range"
        if not categories:
            return "category_required"
        if set(categories) - set(REGISTERED):
            return "category_not_registered"
        if key in self.charge_keys:
            return "replay"
        if number not in self.card_statuses:
            return "unknown_card"
        if self.card_statuses[number] != CardStatus.ACTIVE:
            return "card_frozen"
        if set(categories) & self.banned:
            return "category_banned"
        spent_today, spent_week = self._spent()
        if self.daily_cap is not None and spent_today + amount > self.daily_cap:
            return "daily_cap_exceeded"
        if self.weekly_cap is not None and spent_week + amount > self.weekly_cap:
            return "weekly_cap_exceeded"
        if amount > self.balances[self.card_account_id]:
            return "insufficient_funds"
        return None

    def _expect_refund(self, charge: ModelCharge, amount) -> str | None:
        if self._now() - charge.at > REFUND_WINDOW:
            return "refund_window_closed"
        left = charge.amount - charge.refunded
        if amount is not None and amount <= 0:
            return "amount_out_of_range"
        wanted = left if amount is None else amount
        if wanted == 0 or wanted > left:
            return "refund_exceeds_charge"
        return None

    # --- Helpers -------------------------------------------------------------------------

    def _check(self, what: str, call, expected: str | None):
        """Run a service call; it must succeed when `expected` is None, else fail with that code."""
        event(f"{what}: {expected or 'succeeded'}")  # counts how often each outcome ran
        try:
            result = call()
        except DomainError as error:
            assert error.code == expected, f"expected {expected or 'success'}, got {error.code}: {error.message}"
            return None
        assert expected is None, f"expected {expected}, but it succeeded"
        return result

    def _spent(self) -> tuple[int, int]:
        """Net spending (charges less refunds) in the school's local day and week, by calendar arithmetic."""
        today, this_week = self._local_day(self._now()), self._week_of(self._now())
        return (
            sum(c.amount - c.refunded for c in self.charges if self._local_day(c.at) == today),
            sum(c.amount - c.refunded for c in self.charges if self._week_of(c.at) == this_week),
        )

    def _now(self) -> datetime:
        return datetime.now(UTC)

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(SYDNEY).date()

    def _week_of(self, moment: datetime) -> date:
        day = self._local_day(moment)
        return day - timedelta(days=(day.weekday() - self.week_starts_on) % 7)

    def _new_card_number(self) -> str:
        # Distinct last four digits: the model finds a card by them.
        used = {number[-4:] for number in getattr(self, "card_statuses", {})}
        while True:
            number = f"HYP-{uuid.uuid4().hex[:8].upper()}"
            if number[-4:] not in used:
                return number


@pytest.mark.django_db(transaction=True)
def test_ledger_matches_the_model():
    run_state_machine_as_test(LedgerMachine, settings=machine_settings(max_examples=15, stateful_step_count=25))
