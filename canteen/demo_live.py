"""The demo's live cut-off (`make run`): a school whose canteen closes a few minutes after the seed.

Recess closes halfway there and lunch (the default period) at the end. A child's lunch order is
held at once; when the cut-off passes, the beat's cut-off run (the same job as in production)
charges it and tells the kitchen, recess's run first. Every seed moves both cut-offs ahead, so
each `make run` shows them again; an order already charged earlier today stays charged (one order
per child, period and day), and the summary says so.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from canteen import demo as canteen_demo
from canteen.models import CanteenSettings, FoodProfile, MenuItem, Order, OrderStatus, ServicePeriod
from canteen.orders import LineRequest, order_place
from core import clock
from guardians.models import Guardian, GuardianLink, School, Student, Term

LIVE_SCHOOL = dict(code="wattle-grove", name="Wattle Grove Demo School", time_zone="Australia/Sydney", postcode="2000")
LIVE_STUDENT = dict(student_number="WGS-0001", first_name="Noah", last_name="Nguyen", date_of_birth=date(2017, 3, 9),
                    year_level=3, roll_class="3W")
LIVE_ITEMS = ("Chicken wrap", "Fruit cup")


@dataclass(frozen=True)
class LiveCutoff:
    school: School
    student: Student
    order: Order
    cutoff_at: datetime  # in the school's time zone

    @property
    def charged(self) -> bool:
        return self.order.payment_id is not None


def seed(*, guardian: Guardian, delay: timedelta) -> LiveCutoff:
    cutoff_at = (clock.now() + delay).astimezone(ZoneInfo(LIVE_SCHOOL["time_zone"])).replace(microsecond=0)
    service_date = cutoff_at.date()
    school, _ = School.objects.update_or_create(
        code=LIVE_SCHOOL["code"], defaults={**LIVE_SCHOOL, "canteen_cutoff": cutoff_at.time()}
    )
    # Open every day of the week, in a term around today: the demo works on a Sunday in the holidays too.
    Term.objects.update_or_create(
        school=school, name="Demo term",
        defaults=dict(starts_on=service_date - timedelta(days=7), ends_on=service_date + timedelta(days=60)),
    )
    canteen_demo.seed_school(school)
    # Straight to the rows: the demo's cut-off is wherever the clock is, even in an hour the
    # daylight-saving change skips once a year (which the periods API refuses for a real school).
    recess_at = (clock.now() + delay / 2).astimezone(ZoneInfo(LIVE_SCHOOL["time_zone"])).replace(microsecond=0)
    ServicePeriod.objects.filter(school=school, is_default=True).update(cutoff=cutoff_at.time(), late_cutoff=None)
    ServicePeriod.objects.filter(school=school, name="Recess", is_default=False).update(cutoff=recess_at.time())
    CanteenSettings.objects.filter(school=school).update(service_weekdays=list(range(7)))
    student, _ = Student.objects.get_or_create(school=school, student_number=LIVE_STUDENT["student_number"],
                                               defaults=LIVE_STUDENT)
    # Like Mia, Noah is allergic to peanuts: the README's walk-through shows the refusal at his school,
    # which serves every day of the year, where Mia's is closed in the holidays.
    FoodProfile.objects.get_or_create(student=student, defaults={"allergens": ["peanut"]})
    link = GuardianLink.objects.filter(guardian=guardian, student=student, revoked_at__isnull=True).first()
    if link is None:
        link = GuardianLink.objects.create(guardian=guardian, student=student, origin=GuardianLink.Origin.STAFF)
    order = Order.objects.filter(student=student, service_date=service_date, period__is_default=True, status=OrderStatus.PLACED).first()
    if order is None:
        items = MenuItem.objects.filter(school=school, name__in=LIVE_ITEMS, is_active=True)
        order = order_place(
            link=link, service_date=service_date, note="Live cut-off demo",
            lines=[LineRequest(item_id=item.pk, quantity=1) for item in items],
            reference=f"demo:live-cutoff:{service_date.isoformat()}",
        )
    return LiveCutoff(school=school, student=student, order=order, cutoff_at=cutoff_at)
