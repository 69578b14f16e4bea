"""A school canteen with a menu, a guardian with money, and a clock set to a school morning."""

from dataclasses import dataclass
from datetime import date

import pytest
import time_machine

from canteen.models import CanteenSettings, MenuItem
from guardians.models import GuardianLink
from tests.factories import GuardianLinkFactory, MerchantFactory, SchoolFactory, StudentFactory, give_wallet_money

# Monday 30 November 2026, 07:00 in Sydney (AEDT, UTC+11).
MONDAY_MORNING = "2026-11-29T20:00:00Z"
WEDNESDAY = date(2026, 12, 2)


@dataclass
class Canteen:
    link: GuardianLink
    settings: CanteenSettings
    wrap: MenuItem
    satay: MenuItem
    juice: MenuItem
    guardian_client: object

    @property
    def student(self):
        return self.link.student

    @property
    def school(self):
        return self.settings.school

    def order(self, items, day=WEDNESDAY, key=None, client=None):
        import uuid

        return (client or self.guardian_client).post(
            f"/api/v1/students/{self.student.pk}/orders",
            {"service_date": day.isoformat(), "items": [{"item_id": item.pk, "quantity": qty} for item, qty in items]},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex,
        )


def make_canteen(client_for, *, time_zone="Australia/Sydney", wallet=5000, **settings_fields) -> Canteen:
    school = SchoolFactory(time_zone=time_zone)
    settings = CanteenSettings.objects.create(school=school, merchant=MerchantFactory(school=school), **settings_fields)
    student = StudentFactory(school=school, year_level=4, roll_class="4B")
    link = GuardianLinkFactory(student=student)
    give_wallet_money(link.guardian, wallet)
    return Canteen(
        link=link,
        settings=settings,
        wrap=MenuItem.objects.create(school=school, name="Chicken wrap", price=650, category="lunch", allergens=["gluten", "egg"]),
        satay=MenuItem.objects.create(school=school, name="Satay skewer", price=400, category="lunch", allergens=["peanut"]),
        juice=MenuItem.objects.create(school=school, name="Apple juice", price=300, category="drink"),
        guardian_client=client_for(link.guardian.user),
    )


@pytest.fixture
def canteen(client_for):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        yield make_canteen(client_for)


@pytest.fixture
def at():
    """Move the clock: `with at("2026-12-01T21:29:59.999Z"): ...`."""
    return lambda instant: time_machine.travel(instant, tick=False)
