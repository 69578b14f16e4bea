"""A stateful property test: canteen pre-orders against a small model of orders, stock and the wallet.

Hypothesis drives orders placed for days behind, ahead and too far ahead, for recess or lunch
(each with its own cut-off and menu; one order per child, period and day), changed and cancelled,
with a stock-limited item shared by both periods, while the clock moves across the cut-offs (a
millisecond either side of each and exactly on it) and across the daylight-saving days in Sydney
(2027-04-04, a 25-hour Sunday, and 2027-10-03, a 23-hour one), and each period's cut-off run posts
its holds. After every step the ledger's invariants hold (tests/state_machines.py), the database
agrees with the model, and no order was accepted, changed or cancelled at or after its period's cut-off.
"""

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
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

from canteen import cutoff, orders
from canteen.models import CanteenSettings, DailyStock, MenuItem, Order, OrderStatus, ServicePeriod
from canteen.periods import default_period
from core.errors import DomainError
from tests.factories import GuardianLinkFactory, MerchantFactory, SchoolFactory, StudentFactory
from tests.state_machines import LedgerInvariants, machine_settings
from wallet import accounts, ledger
from wallet.models import Account

SYDNEY = ZoneInfo("Australia/Sydney")
START_TIMES = [
    datetime(2027, 4, 3, 20, 0, tzinfo=SYDNEY),  # the evening before clocks fall back
    datetime(2027, 4, 4, 7, 0, tzinfo=SYDNEY),  # the 25-hour Sunday itself, before its cut-off
    datetime(2027, 10, 2, 20, 0, tzinfo=SYDNEY),  # the evening before clocks spring forward
    datetime(2027, 10, 3, 7, 0, tzinfo=SYDNEY),  # the 23-hour Sunday itself, before its cut-off
    datetime(2026, 11, 30, 7, 0, tzinfo=SYDNEY),  # an ordinary Monday
]
CUTOFFS = [time(7, 45), time(8, 30), time(10, 0)]  # lunch's, the school's default period
RECESS_BEFORE_LUNCH = timedelta(minutes=45)
RECESS, LUNCH = "recess", "lunch"
STOCK_LIMIT = 2
# How often each rule ended each way, over every example of a run: the test checks the paths ran.
OUTCOMES: Counter[str] = Counter()


def mostly(usual, rare):
    """`usual` about four times in five: edge cases stay in the mix without crowding out the rest."""
    return st.sampled_from([True, True, True, True, False]).flatmap(lambda pick_usual: usual if pick_usual else rare)


CLOCK_STEPS = st.one_of(st.integers(1, 6 * 60), st.sampled_from([23 * 60, 24 * 60, 25 * 60, 3 * 24 * 60]))


@dataclass
class ModelOrder:
    pk: int
    child: int  # index into the machine's links
    day: date
    period: str  # RECESS or LUNCH
    lines: dict[int, int]  # item pk -> quantity
    total: int
    status: str = OrderStatus.PLACED
    posted: bool = False


class OrderMachine(LedgerInvariants, RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.traveller = self.clock = None
        self.orders: list[ModelOrder] = []
        self.stock: Counter[date] = Counter()  # units of the limited item per day
        self.accepted_at: list[tuple[date, str, datetime]] = []  # every place, change and cancel the service accepted

    def teardown(self):
        if self.traveller is not None:
            self.traveller.stop()

    @initialize(
        start=st.sampled_from(START_TIMES),
        cutoff_at=st.sampled_from(CUTOFFS),
        every_day=st.booleans(),
        weeks_ahead=st.integers(1, 2),
        money=st.integers(1_500, 6_000),
    )
    def start(self, start, cutoff_at, every_day, weeks_ahead, money):
        self.traveller = time_machine.travel(start, tick=False)
        self.clock = self.traveller.start()
        school = SchoolFactory(time_zone="Australia/Sydney", canteen_cutoff=cutoff_at)
        # Every day (a weekend carnival canteen) puts the daylight-saving Sundays themselves on the menu.
        self.weekdays = list(range(7)) if every_day else [0, 1, 2, 3, 4]
        self.settings = CanteenSettings.objects.create(
            school=school, merchant=MerchantFactory(school=school), service_weekdays=self.weekdays, max_weeks_ahead=weeks_ahead
        )
        self.school, self.cutoff_at, self.weeks_ahead = school, cutoff_at, weeks_ahead
        # Siblings with one parent (and one wallet): two orders a day compete for the limited stock.
        first = GuardianLinkFactory(student=StudentFactory(school=school, year_level=4))
        self.links = [first, GuardianLinkFactory(guardian=first.guardian, student=StudentFactory(school=school, year_level=2))]
        self.guardian = first.guardian
        recess_at = (datetime.combine(date(2027, 1, 1), cutoff_at) - RECESS_BEFORE_LUNCH).time()
        self.cutoff_times = {RECESS: recess_at, LUNCH: cutoff_at}
        self.periods = {LUNCH: default_period(school), RECESS: ServicePeriod.objects.create(school=school, name="Recess", cutoff=recess_at)}
        both = list(self.periods.values())
        # The wrap (stock-limited: both periods draw on one day's stock) and juice are on both menus; fruit at recess only.
        self.wrap = MenuItem.objects.create(school=school, name="Chicken wrap", price=650, category="lunch", daily_stock_limit=STOCK_LIMIT)
        self.juice = MenuItem.objects.create(school=school, name="Apple juice", price=300, category="drink")
        self.fruit = MenuItem.objects.create(school=school, name="Fruit cup", price=250, category="fruit")
        self.wrap.periods.set(both)
        self.juice.periods.set(both)
        self.fruit.periods.set([self.periods[RECESS]])
        self.menus = {RECESS: {self.wrap.pk, self.juice.pk, self.fruit.pk}, LUNCH: {self.wrap.pk, self.juice.pk}}
        self.prices = {self.wrap.pk: 650, self.juice.pk: 300, self.fruit.pk: 250}
        self.wallet_id = accounts.guardian_wallet(self.guardian).pk
        self.payable_id = accounts.merchant_payable(self.settings.merchant).pk
        self.balance = self.held = self.payable = 0
        self.top_up(money)

    # --- Money ----------------------------------------------------------------------------

    @rule(amount=st.integers(300, 3_000))
    def top_up(self, amount):
        ledger.transfer(
            kind="test_topup",
            reference=f"test_topup:{uuid.uuid4().hex}",
            legs=[ledger.Leg(accounts.processor_clearing().pk, -amount), ledger.Leg(self.wallet_id, amount)],
            actor="test",
        )
        self.balance += amount

    # --- Guardians: place, change, cancel -----------------------------------------------------

    @rule(data=st.data())
    def place(self, data):
        today = self._today()
        child = data.draw(st.sampled_from([0, 1]), label="child")
        offset = data.draw(mostly(st.integers(0, 2), st.integers(-1, 7 * self.weeks_ahead + 1)), label="days ahead")
        day = today + timedelta(days=offset)
        period = data.draw(st.sampled_from([LUNCH, RECESS]), label="period")
        lines = data.draw(self._lines(), label="lines")
        expected = self._expect_orderable(day, period) or self._expect_on_menu(period, lines) or self._expect_stock(day, lines, {})
        if expected is None and any(
            o.child == child and o.day == day and o.period == period and o.status == OrderStatus.PLACED for o in self.orders
        ):
            expected = "order_exists"
        total = self._total(lines)
        if expected is None and total > self.balance - self.held:
            expected = "insufficient_funds"
        # Lunch is the default period: half the time it is asked for by leaving the period out, as before periods.
        period_id = None if period == LUNCH and data.draw(st.booleans(), label="lunch by default") else self.periods[period].pk
        call = lambda: orders.order_place(  # noqa: E731
            link=self.links[child], service_date=day, period_id=period_id, lines=[orders.LineRequest(pk, qty) for pk, qty in lines.items()], note="", reference=f"test_order:{uuid.uuid4().hex}"
        )
        placed = self._check("place", call, expected)
        if expected is None:
            self.orders.append(ModelOrder(pk=placed.pk, child=child, day=day, period=period, lines=lines, total=total))
            self.held += total
            self.stock[day] += lines.get(self.wrap.pk, 0)
            self.accepted_at.append((day, period, self._now()))

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def change(self, data):
        order = data.draw(self._an_order(), label="order")
        lines = data.draw(self._lines(), label="lines")
        expected = self._expect_orderable(order.day, order.period) or self._expect_on_menu(order.period, lines)
        if expected is None and (order.status != OrderStatus.PLACED or order.posted):
            expected = "order_state_invalid"
        expected = expected or self._expect_stock(order.day, lines, order.lines)
        total = self._total(lines)
        if expected is None and total > self.balance - self.held + order.total:
            expected = "insufficient_funds"
        stored = Order.objects.get(pk=order.pk)
        call = lambda: orders.order_change(  # noqa: E731
            link=self.links[order.child], order=stored, lines=[orders.LineRequest(pk, qty) for pk, qty in lines.items()], reference=f"test_change:{uuid.uuid4().hex}"
        )
        self._check("change", call, expected)
        if expected is None:
            self.stock[order.day] += lines.get(self.wrap.pk, 0) - order.lines.get(self.wrap.pk, 0)
            self.held += total - order.total
            order.lines, order.total = lines, total
            self.accepted_at.append((order.day, order.period, self._now()))

    @precondition(lambda self: self.orders)
    @rule(data=st.data())
    def cancel(self, data):
        self._cancel(data.draw(self._an_order(), label="order"))

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), offset_ms=st.sampled_from([-1, 0, 1]))
    def cancel_at_the_cutoff(self, data, offset_ms):
        """A millisecond before, exactly at, or a millisecond after the cut-off: it is exclusive."""
        order = data.draw(st.sampled_from(self.orders), label="order")
        self._travel_to(self._cutoff(order.day, order.period) + timedelta(milliseconds=offset_ms))
        self._cancel(order)

    def _cancel(self, order: ModelOrder):
        # Before the cut-off, cancelling a cancelled order succeeds and changes nothing.
        expected = "ordering_closed" if self._now() >= self._cutoff(order.day, order.period) else None
        stored = Order.objects.get(pk=order.pk)
        self._check("cancel", lambda: orders.order_cancel(order=stored, by_user=self.guardian.user, reason="guardian", link=self.links[order.child]), expected)
        if expected is None and order.status == OrderStatus.PLACED:
            order.status = OrderStatus.CANCELLED
            self.held -= order.total
            self.stock[order.day] -= order.lines.get(self.wrap.pk, 0)
            self.accepted_at.append((order.day, order.period, self._now()))

    # --- The clock and the cut-off run -------------------------------------------------------

    @rule(minutes=CLOCK_STEPS)
    def advance_clock(self, minutes):
        """Time passes and, as the periodic job does, every cut-off now due runs."""
        self.clock.shift(timedelta(minutes=minutes))
        self.run_due_cutoffs()

    @precondition(lambda self: self.orders)
    @rule(data=st.data(), offset_ms=st.sampled_from([-1, 0, 1]))
    def place_at_the_cutoff(self, data, offset_ms):
        """Another order for a day that has one, a millisecond either side of (or exactly at) its period's cut-off."""
        order = data.draw(st.sampled_from(self.orders), label="order")
        self._travel_to(self._cutoff(order.day, order.period) + timedelta(milliseconds=offset_ms))
        self.place(data)

    @rule()
    def run_due_cutoffs(self):
        for day, period in sorted({(order.day, order.period) for order in self.orders}):
            cutoff.cutoff_run(school=self.school, service_date=day, period=self.periods[period])
            for order in self.orders:
                if (
                    (order.day, order.period) == (day, period)
                    and order.status == OrderStatus.PLACED
                    and not order.posted
                    and self._now() >= self._cutoff(day, period)
                ):
                    order.posted = True
                    self.balance -= order.total
                    self.held -= order.total
                    self.payable += order.total
                    OUTCOMES["cut-off: posted"] += 1

    # --- Invariants --------------------------------------------------------------------------

    @invariant()
    def the_database_agrees_with_the_model(self):
        if self.clock is None:
            return
        OUTCOMES["steps checked"] += 1
        wallet = Account.objects.get(pk=self.wallet_id)
        assert (wallet.balance, wallet.held) == (self.balance, self.held)
        assert Account.objects.get(pk=self.payable_id).balance == self.payable
        stored = {o.pk: (o.service_date, o.period_id, o.status, o.total, o.payment_id is not None) for o in Order.objects.filter(school=self.school)}
        assert stored == {o.pk: (o.day, self.periods[o.period].pk, o.status, o.total, o.posted) for o in self.orders}
        stock = {row.service_date: row.ordered for row in DailyStock.objects.filter(menu_item=self.wrap) if row.ordered}
        assert stock == {day: units for day, units in self.stock.items() if units}

    @invariant()
    def nothing_is_accepted_after_the_cutoff(self):
        if self.clock is None:
            return
        names = {period.pk: name for name, period in self.periods.items()}
        for order in Order.objects.filter(school=self.school):
            assert order.created_at < self._cutoff(order.service_date, names[order.period_id]), f"order {order.pk} accepted after its cut-off"
            assert 0 <= self.stock[order.service_date] <= STOCK_LIMIT
        assert all(at < self._cutoff(day, period) for day, period, at in self.accepted_at)

    # --- The model's predictions ---------------------------------------------------------------

    def _expect_orderable(self, day: date, period: str) -> str | None:
        today = self._today()
        if day < today:
            return "ordering_closed"
        if day > today + timedelta(weeks=self.weeks_ahead):
            return "too_far_ahead"
        if day.weekday() not in self.weekdays:
            return "school_closed"
        if self._now() >= self._cutoff(day, period):
            return "ordering_closed"
        return None

    def _expect_on_menu(self, period: str, lines: dict[int, int]) -> str | None:
        return "item_unavailable" if set(lines) - self.menus[period] else None

    def _expect_stock(self, day: date, lines: dict[int, int], old_lines: dict[int, int]) -> str | None:
        wanted = self.stock[day] - old_lines.get(self.wrap.pk, 0) + lines.get(self.wrap.pk, 0)
        return "out_of_stock" if lines.get(self.wrap.pk, 0) and wanted > STOCK_LIMIT else None

    # --- Helpers ---------------------------------------------------------------------------------

    def _an_order(self):
        """Mostly one still open to change (placed, before its cut-off); now and then any."""
        open_ = [o for o in self.orders if o.status == OrderStatus.PLACED and self._now() < self._cutoff(o.day, o.period)]
        return mostly(st.sampled_from(open_), st.sampled_from(self.orders)) if open_ else st.sampled_from(self.orders)

    def _lines(self):
        """Mostly the wrap (the stock-limited item), sometimes juice alone; now and then the fruit, which only recess serves."""
        wrap = st.fixed_dictionaries({self.wrap.pk: st.integers(1, 2)}, optional={self.juice.pk: st.integers(1, 2)})
        other = st.fixed_dictionaries({self.juice.pk: st.integers(1, 2)}, optional={self.fruit.pk: st.integers(1, 2)})
        return mostly(wrap, other)

    def _total(self, lines: dict[int, int]) -> int:
        return sum(self.prices[pk] * qty for pk, qty in lines.items())

    def _cutoff(self, day: date, period: str) -> datetime:
        """The period's cut-off by the wall clock in Sydney that day, whatever its length."""
        return datetime.combine(day, self.cutoff_times[period], tzinfo=SYDNEY).astimezone(UTC)

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

    def _travel_to(self, instant: datetime):
        """Move the clock forward to `instant`, running the cut-off job at each cut-off passed on the way.

        The periodic job runs every few minutes, so it never meets a hold past its grace: a single
        jump of more than HOLD_GRACE would let the holds lapse before the job ever saw them.
        """
        cutoffs = {self._cutoff(order.day, order.period) for order in self.orders}
        passed = sorted(moment for moment in cutoffs if self._now() < moment < instant)
        for stop in [*passed, instant]:
            if stop > self._now():
                self.clock.shift(stop - self._now())
                self.run_due_cutoffs()

    def _today(self) -> date:
        return self._now().astimezone(SYDNEY).date()

    def _now(self) -> datetime:
        return datetime.now(UTC)


@pytest.mark.django_db(transaction=True)
def test_orders_match_the_model():
    OUTCOMES.clear()
    run_state_machine_as_test(OrderMachine, settings=machine_settings(max_examples=10, stateful_step_count=20))
    print(f"canteen machine: {dict(sorted(OUTCOMES.items()))}")
    # Which paths a run reaches is random (printed above); that every example stepped and was checked is not.
    assert OUTCOMES["steps checked"] >= 10
