"""The world the browser journeys run in: a school whose canteen serves every day, a parent of
Mia with an empty wallet, Mia's card, a peanut allergy, a published excursion with a consent
form, an Active Kids voucher, and a merchant (canteen and sport) with a paired terminal that the
school lets take its cards and the program approved as a provider. Real clock: the browser's
clock and the server's must agree (rotating QR codes, "today's" takings)."""

from dataclasses import dataclass
from datetime import date, timedelta

import pytest

from canteen.models import CanteenSettings, FoodProfile, MenuItem
from core import clock
from events import services as events
from tests.factories import (
    TEST_PASSWORD,
    GuardianLinkFactory,
    MerchantFactory,
    SchoolFactory,
    StaffFactory,
    StudentCardFactory,
    StudentFactory,
)
from tests.vouchers.factories import approve, issue, make_program
from wallet.terminal_keys import terminal_create

CARD = "TBX-CARD-7731"
FORM = {
    "body": "Year 4 will visit the Australian Museum by bus. Bring a hat and a packed lunch.",
    "statement": "I give permission for my child to attend.",
    "questions": [{"key": "photo_ok", "label": "May we publish photos?", "type": "yes_no", "required": True}],
}


@dataclass
class World:
    base_url: str
    school: object
    student: object
    link: object
    email: str
    password: str
    merchant: object
    terminal_key: str
    event: object
    voucher: object
    wrap: MenuItem
    satay: MenuItem


@pytest.fixture
def world(live_server, settings, eager_tasks) -> World:
    settings.PAYMENT_GATEWAY = "fake"  # the demo's gateway: /simulate pays a top-up with a signed webhook
    settings.STRIPE_WEBHOOK_SECRET = "whsec_browser_tests"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    school = SchoolFactory(name="Harbourside Public School", time_zone="Australia/Sydney")
    merchant = MerchantFactory(school=school, name="Harbourside Canteen & Sport", categories=["canteen", "sport"])
    CanteenSettings.objects.create(school=school, merchant=merchant, service_weekdays=[0, 1, 2, 3, 4, 5, 6])
    staff = StaffFactory(school=school, roles=["admin", "teacher", "canteen"])
    student = StudentFactory(school=school, first_name="Mia", last_name="Nguyen", year_level=4, date_of_birth=date(2016, 5, 1))
    link = GuardianLinkFactory(student=student, guardian__user__first_name="Olivia", guardian__user__last_name="Nguyen")
    StudentCardFactory(student=student, identifier=CARD)
    FoodProfile.objects.create(student=student, allergens=["peanut"])
    now = clock.now()
    event = events.event_create(
        staff=staff, form=FORM, title="Museum excursion", description="A day at the museum.", kind="excursion",
        location="Australian Museum", starts_at=now + timedelta(days=14), ends_at=now + timedelta(days=14, hours=6),
        signup_deadline=now + timedelta(days=7), cost=2500, capacity=30, eligible_year_levels=[4],
    )
    events.event_publish(event_id=event.pk, staff=staff)
    events.announcement_post(staff=staff, audience="school", title="Sports day on Friday", body="Wear your house colours.")
    program = make_program()  # Active Kids: $100 for sport
    approve(program, merchant, categories=["sport"])
    [voucher] = issue(program, link=link)
    _, terminal_key = terminal_create(merchant=merchant, label="Front counter")
    return World(
        base_url=live_server.url, school=school, student=student, link=link, email=link.guardian.user.email, password=TEST_PASSWORD,
        merchant=merchant, terminal_key=terminal_key, event=event, voucher=voucher,
        wrap=MenuItem.objects.create(school=school, name="Chicken wrap", price=650, category="lunch", allergens=["gluten"]),
        satay=MenuItem.objects.create(school=school, name="Satay skewer", price=400, category="lunch", allergens=["peanut"]),
    )
