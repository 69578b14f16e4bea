"""A stateful property test: voucher issuing, redemption and voids against a small model of each voucher.

Hypothesis drives applications (once a period, again in the next year), redemptions of one voucher
or a stack (partial, exact, too much, at the expiry instant, a retried reference), voids inside and
at the edge of the void window, and the clock moving across days, daylight-saving changes and the
vouchers' expiry. Programs are split-use or single-use (the remainder forfeited), stackable or not.
After every step the ledger's invariants hold (tests/state_machines.py), the database agrees with
the model, and no voucher has been spent past its value or after it expired.
"""

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db.models import Sum
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
from tests.factories import (
    GuardianLinkFactory,
    MerchantFactory,
    ProgramAdministratorFactory,
    SchoolFactory,
    StudentFactory,
)
from tests.state_machines import LedgerInvariants, machine_settings
from tests.vouchers.factories import approve, issue, make_program, program_money
from vouchers.models import Redemption, RedemptionLine, Voucher, VoucherState
from vouchers.redemption import Credential, redemption_void, voucher_redeem
from wallet import accounts
from wallet.models import Account
from wallet.terminal_keys import terminal_create

SYDNEY = ZoneInfo("Australia/Sydney")
VOID_WINDOW = django_settings.VOUCHER_VOID_WINDOW
MAX_REDEMPTION = django_settings.VOUCHER_MAX_REDEMPTION_CENTS
DATE_OF_BIRTH = date(2016, 4, 2)
START_TIMES = [
    datetime(2026, 3, 2, 10, 0, tzinfo=SYDNEY),  # a term day
    datetime(2026, 12, 31, 22, 0, tzinfo=SYDNEY),  # two hours before the year's vouchers expire
    datetime(2027, 4, 3, 23, 30, tzinfo=SYDNEY),  # the night clocks fall back (25-hour Sunday)
    datetime(2027, 10, 2, 23, 30, tzinfo=SYDNEY),  # the night clocks spring forward (23-hour Sunday)
]
# How often each rule ended each way, over every example of a run: the test checks the paths ran.
OUTCOMES: Counter[str] = Counter()


def mostly(usual, rare):
    """`usual` about four times in five: edge cases stay in the mix without crowding out the rest."""
    return st.sampled_from([True, True, True, True, False]).flatmap(lambda pick_usual: usual if pick_usual else rare)


# Minutes: mostly within a day or so (across a DST night), now and then a week or two months.
CLOCK_STEPS = mostly(st.sampled_from([1, 30, 6 * 60, 23 * 60, 24 * 60, 25 * 60]), st.sampled_from([7 * 24 * 60, 60 * 24 * 60]))


@dataclass
class ModelVoucher:
    pk: int
    face: int
    expires_at: datetime
    remaining: int
    forfeited: int = 0
    state: str = VoucherState.ISSUED


@dataclass
class ModelRedemption:
    pk: int
    amount: int
    at: datetime
    lines: list[tuple[int, int, int]]  # (voucher pk, applied, forfeited)
    voided: bool = False


class VoucherMachine(LedgerInvariants, RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.traveller = self.clock = None
        self.vouchers: dict[int, ModelVoucher] = {}
        self.redemptions: list[ModelRedemption] = []
        self.periods_issued: set[int] = set()

    def teardown(self):
        if self.traveller is not None:
            self.traveller.stop()

    @initialize(
        start=st.sampled_from(START_TIMES),
        face_value=st.sampled_from([1_000, 5_000, 10_000]),
        single_use=st.booleans(),
        stackable=st.booleans(),
        per_period=st.integers(1, 2),
    )
    def start(self, start, face_value, single_use, stackable, per_period):
        self.traveller = time_machine.travel(start, tick=False)
        self.clock = self.traveller.start()
        school = SchoolFactory(postcode="2000", time_zone="Australia/Sydney")
        self.link = GuardianLinkFactory(student=StudentFactory(school=school, date_of_birth=DATE_OF_BIRTH), guardian__postcode="2010")
        self.program = make_program(
            admin=ProgramAdministratorFactory(),
            face_value=face_value,
            use_rule="single_use" if single_use else "partial",
            stackable=stackable,
            vouchers_per_period=per_period,
        )
        self.single_use, self.stackable, self.per_period = single_use, stackable, per_period
        merchant = MerchantFactory(name="Swim club", categories=["sport"])
        # Evidence good for the whole run: the clock travels years ahead, expiry after expiry.
        approve(self.program, merchant, insurance_expires_on=date(2099, 12, 31), wwcc_expires_on=date(2099, 12, 31))
        self.terminal, _ = terminal_create(merchant=merchant, label="Pool desk")
        self.funding_id = self.program.funding_account_id
        self.payable_id = accounts.merchant_payable(merchant).pk
        self.apply()

    # --- Issuing (at the start, and again whenever the clock moves) ---------------------------

    def apply(self):
        year = self._now().astimezone(SYDNEY).year
        expected = "already_issued_this_period" if year in self.periods_issued else None
        issued = self._check("apply", lambda: issue(self.program, link=self.link), expected)
        if expected is None:
            assert len(issued) == self.per_period
            self.periods_issued.add(year)
            expires_at = datetime(year + 1, 1, 1, tzinfo=SYDNEY).astimezone(UTC)  # end_of_year: the local midnight after 31 Dec
            for voucher in issued:
                self.vouchers[voucher.pk] = ModelVoucher(pk=voucher.pk, face=voucher.face_value, expires_at=expires_at, remaining=voucher.face_value)

    # --- Redemption ----------------------------------------------------------------------

    @precondition(lambda self: self.vouchers)
    @rule(data=st.data())
    def redeem(self, data):
        """Mostly one voucher; now and then two, which only a stackable program accepts."""
        self._redeem(data, size=data.draw(mostly(st.just(1), st.just(2)), label="vouchers presented"))

    @precondition(lambda self: self.stackable and len(self.vouchers) > 1)
    @rule(data=st.data())
    def redeem_a_stack(self, data):
        self._redeem(data, size=2)

    @precondition(lambda self: self.vouchers)
    @rule(data=st.data(), offset=st.sampled_from([-1, 0, 1]))
    def redeem_at_expiry(self, data, offset):
        """A second either side of (or exactly at) a voucher's expiry instant."""
        voucher = data.draw(st.sampled_from(sorted(self.vouchers.values(), key=lambda v: v.pk)), label="voucher")
        self._travel_to(voucher.expires_at + timedelta(seconds=offset))
        self._redeem(data, chosen=[voucher])

    def _redeem(self, data, *, size=1, chosen=None):
        live = [pk for pk, v in sorted(self.vouchers.items()) if v.remaining and self._now() < v.expires_at]
        # Mostly vouchers that can still pay; now and then any, spent and expired ones included.
        pool = data.draw(mostly(st.just(live), st.just(sorted(self.vouchers))), label="pool") if len(live) >= size else sorted(self.vouchers)
        if chosen is None:
            size = min(len(pool), size)
            chosen = [self.vouchers[pk] for pk in data.draw(st.lists(st.sampled_from(pool), min_size=size, max_size=size, unique=True), label="vouchers")]
        left = sum(v.remaining for v in chosen)
        amount = data.draw(mostly(st.integers(1, max(left, 1)), st.sampled_from([left + 1, 0, MAX_REDEMPTION + 1])), label="amount")
        reference = f"test_redeem:{uuid.uuid4().hex}"
        expected = self._expect_redeem(chosen, amount)
        call = lambda: voucher_redeem(  # noqa: E731
            terminal=self.terminal,
            credentials=[Credential(number=self._number(v.pk), date_of_birth=DATE_OF_BIRTH) for v in chosen],
            amount=amount,
            category=None,
            description="Term swimming",
            reference=reference,
        )
        redeemed = self._check("redeem" + (" stack" if len(chosen) > 1 else ""), call, expected)
        if expected is not None:
            return
        assert not redeemed.replayed
        lines, unpaid = [], amount
        for voucher in sorted(chosen, key=lambda v: (v.expires_at, v.pk)):  # soonest expiry first
            if unpaid == 0:
                break
            applied = min(unpaid, voucher.remaining)
            unpaid -= applied
            voucher.remaining -= applied
            forfeited = voucher.remaining if self.single_use else 0
            voucher.remaining -= forfeited
            voucher.forfeited += forfeited
            voucher.state = VoucherState.REDEEMED if voucher.remaining == 0 else VoucherState.PARTLY_REDEEMED
            lines.append((voucher.pk, applied, forfeited))
        self.redemptions.append(ModelRedemption(pk=redeemed.redemption.pk, amount=amount, at=self._now(), lines=lines))
        if data.draw(st.booleans(), label="retry"):  # the same reference redeems once
            again = call()
            assert again.replayed and again.redemption.pk == redeemed.redemption.pk

    # --- Voids -----------------------------------------------------------------------------

    @precondition(lambda self: self.redemptions)
    @rule(data=st.data())
    def void(self, data):
        standing = [r for r in self.redemptions if not r.voided] or self.redemptions
        self._void(data.draw(mostly(st.sampled_from(standing), st.sampled_from(self.redemptions)), label="redemption"))

    @precondition(lambda self: self.redemptions)
    @rule(data=st.data(), offset=st.sampled_from([-1, 0, 1]))
    def void_at_the_window_edge(self, data, offset):
        redemption = data.draw(st.sampled_from(self.redemptions), label="redemption")
        self._travel_to(redemption.at + VOID_WINDOW + timedelta(seconds=offset))
        self._void(redemption)

    def _void(self, redemption: ModelRedemption):
        if redemption.voided:
            expected = "redemption_already_voided"
        elif self._now() - redemption.at > VOID_WINDOW:
            expected = "void_window_closed"
        else:
            expected = None
        self._check("void", lambda: redemption_void(terminal=self.terminal, redemption_id=redemption.pk), expected)
        if expected is not None:
            return
        redemption.voided = True
        for voucher_pk, applied, forfeited in redemption.lines:
            voucher = self.vouchers[voucher_pk]
            voucher.remaining += applied + forfeited
            voucher.forfeited -= forfeited
            voucher.state = VoucherState.ISSUED if voucher.remaining == voucher.face else VoucherState.PARTLY_REDEEMED

    # --- The clock -------------------------------------------------------------------------

    @rule(minutes=CLOCK_STEPS)
    def advance_clock_and_apply(self, minutes):
        """Into a new year the family applies again and gets that year's vouchers; within one, it is refused."""
        self.clock.shift(timedelta(minutes=minutes))
        self.apply()

    # --- Invariants ------------------------------------------------------------------------

    @invariant()
    def the_database_agrees_with_the_model(self):
        if self.clock is None:
            return
        OUTCOMES["steps checked"] += 1
        stored = {v.pk: (v.remaining_value, v.forfeited_value, v.state, v.expires_at) for v in Voucher.objects.filter(program=self.program)}
        assert stored == {v.pk: (v.remaining, v.forfeited, v.state, v.expires_at) for v in self.vouchers.values()}
        live = sum(r.amount for r in self.redemptions if not r.voided)
        # The program's money is its funding and its vouchers' reserves (vouchers/reserves.py).
        assert (program_money(self.program), Account.objects.get(pk=self.payable_id).balance) == (-live, live)

    @invariant()
    def no_voucher_is_spent_past_its_value_or_its_expiry(self):
        if self.clock is None:
            return
        for voucher in Voucher.objects.filter(program=self.program):
            lines = RedemptionLine.objects.filter(voucher=voucher, redemption__voided_at__isnull=True)
            spent = lines.aggregate(total=Sum("amount"))["total"] or 0
            forfeited = lines.aggregate(total=Sum("forfeited_amount"))["total"] or 0
            assert 0 <= voucher.remaining_value <= voucher.face_value
            assert (spent, forfeited) == (voucher.face_value - voucher.remaining_value - voucher.forfeited_value, voucher.forfeited_value)
            assert spent + forfeited <= voucher.face_value
            assert not lines.filter(redemption__created_at__gte=voucher.expires_at).exists()
        assert Redemption.objects.filter(program=self.program, voided_at__isnull=True).aggregate(total=Sum("amount"))["total"] in (
            None,
            sum(r.amount for r in self.redemptions if not r.voided) or None,
        )

    # --- The model's predictions -------------------------------------------------------------

    def _expect_redeem(self, chosen: list[ModelVoucher], amount: int) -> str | None:
        if not 0 < amount <= MAX_REDEMPTION:
            return "amount_out_of_range"
        if len(chosen) > 1 and not self.stackable:
            return "stacking_not_allowed"
        for voucher in sorted(chosen, key=lambda v: v.pk):
            if voucher.remaining == 0:
                return "voucher_already_redeemed"
            if self._now() >= voucher.expires_at:
                return "voucher_expired"
        if amount > sum(v.remaining for v in chosen):
            return "amount_exceeds_remaining"
        return None

    # --- Helpers -----------------------------------------------------------------------------

    def _check(self, what: str, call, expected: str | None):
        event(f"{what}: {expected or 'succeeded'}")
        OUTCOMES[f"{what}: {expected or 'succeeded'}"] += 1
        try:
            result = call()
        except DomainError as error:
            assert error.code == expected, f"{what}: expected {expected or 'success'}, got {error.code}: {error.message}"
            return None
        assert expected is None, f"{what}: expected {expected}, but it succeeded"
        return result

    def _number(self, voucher_pk: int) -> str:
        return Voucher.objects.values_list("number", flat=True).get(pk=voucher_pk)

    def _travel_to(self, instant: datetime):
        if instant > self._now():
            self.clock.shift(instant - self._now())

    def _now(self) -> datetime:
        return datetime.now(UTC)


@pytest.mark.django_db(transaction=True)
def test_vouchers_match_the_model():
    OUTCOMES.clear()
    run_state_machine_as_test(VoucherMachine, settings=machine_settings(max_examples=10, stateful_step_count=20))
    print(f"voucher machine: {dict(sorted(OUTCOMES.items()))}")
    # Which paths a run reaches is random (printed above); that every example stepped and was checked is not.
    assert OUTCOMES["steps checked"] >= 10
