"""Demo canteen for `make run`: settings and a menu at each demo school. Idempotent."""

from canteen.models import CanteenSettings, FoodProfile, MenuItem
from guardians.models import School, Student
from wallet.models import Merchant, MerchantCategory

MENU = [
    # name, price, category, allergens, dietary tags, daily stock limit
    ("Chicken wrap", 650, "lunch", ["gluten", "egg"], ["halal"], 40),
    ("Vegetable fried rice", 600, "lunch", ["soy", "egg"], ["vegetarian"], 30),
    ("Satay chicken skewers", 700, "lunch", ["peanut"], [], 20),
    ("Cheese and tomato toastie", 500, "lunch", ["gluten", "milk"], ["vegetarian"], None),
    ("Fruit cup", 250, "fruit", [], ["vegan", "gluten_free"], None),
    ("Banana bread", 350, "snack", ["gluten", "egg", "milk", "tree_nut"], ["vegetarian"], 25),
    ("Apple juice", 300, "drink", [], ["vegan"], None),
    ("Frozen yoghurt", 300, "dessert", ["milk"], ["vegetarian"], None),
]


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
    if MenuItem.objects.filter(school=school).exists():
        return
    MenuItem.objects.bulk_create(
        MenuItem(school=school, name=name, price=price, category=category, allergens=allergens,
                 dietary_tags=tags, daily_stock_limit=stock)
        for name, price, category, allergens, tags, stock in MENU
    )
