"""Demo canteen for `make run`: settings, recess and lunch, and a menu at each demo school. Idempotent."""

from datetime import datetime, time, timedelta

from canteen import periods
from canteen.models import CanteenSettings, FoodProfile, MenuItem, ServicePeriod
from guardians.models import School, Student
from wallet.models import Merchant, MerchantCategory

RECESS, LUNCH = "recess", "lunch"
MENU = [
    # name, price, category, allergens, dietary tags, daily stock limit, periods
    ("Chicken wrap", 650, "lunch", ["gluten", "egg"], ["halal"], 40, [LUNCH]),
    ("Vegetable fried rice", 600, "lunch", ["soy", "egg"], ["vegetarian"], 30, [LUNCH]),
    ("Satay chicken skewers", 700, "lunch", ["peanut"], [], 20, [LUNCH]),
    ("Cheese and tomato toastie", 500, "lunch", ["gluten", "milk"], ["vegetarian"], None, [RECESS, LUNCH]),
    ("Fruit cup", 250, "fruit", [], ["vegan", "gluten_free"], None, [RECESS, LUNCH]),
    ("Banana bread", 350, "snack", ["gluten", "egg", "milk", "tree_nut"], ["vegetarian"], 25, [RECESS]),
    ("Apple juice", 300, "drink", [], ["vegan"], None, [RECESS, LUNCH]),
    ("Frozen yoghurt", 300, "dessert", ["milk"], ["vegetarian"], None, [LUNCH]),
]
# Recess orders close this long before lunch's (the school's own cut-off, its default period).
RECESS_BEFORE_LUNCH = timedelta(hours=1)


def seed() -> None:
    for school in School.objects.all():
        seed_school(school)
    # Mia has a peanut allergy: the satay is refused for her, and it is bold on her bag label.
    mia = Student.objects.filter(student_number="HPS-0001").first()
    if mia is not None:
        FoodProfile.objects.get_or_create(student=mia, defaults={"allergens": ["peanut"], "notes": "Carries an EpiPen"})


def seed_school(school: School) -> None:
    """The school's canteen settings, and the demo menu while the school has no menu at all: once
    staff have added, renamed or removed items through the API, the menu is theirs."""
    merchant = Merchant.objects.filter(school=school).order_by("pk").first() or Merchant.objects.create(
        school=school, name=f"{school.name} Canteen", abn="51824753556", categories=[MerchantCategory.CANTEEN]
    )
    CanteenSettings.objects.get_or_create(school=school, defaults={"merchant": merchant})
    by_name = seed_periods(school)
    if MenuItem.objects.filter(school=school).exists():
        return
    for name, price, category, allergens, tags, stock, served in MENU:
        item = MenuItem.objects.create(school=school, name=name, price=price, category=category, allergens=allergens,
                                       dietary_tags=tags, daily_stock_limit=stock)
        item.periods.set([by_name[period] for period in served])


def seed_periods(school: School, *, recess_cutoff: time | None = None) -> dict[str, ServicePeriod]:
    """Lunch is the school's default period (its existing cut-off); recess closes an hour earlier,
    unless the caller says when (and once staff have changed it, it is theirs)."""
    lunch = periods.default_period(school)
    if recess_cutoff is None:
        earlier = datetime.combine(datetime.min.date() + timedelta(days=1), lunch.cutoff) - RECESS_BEFORE_LUNCH
        recess_cutoff = earlier.time() if earlier.date() > datetime.min.date() else time(0)
    recess, _ = ServicePeriod.objects.get_or_create(school=school, name="Recess", defaults={"cutoff": recess_cutoff})
    return {RECESS: recess, LUNCH: lunch}
