"""An allergy declared after an order was placed flags the order everywhere the kitchen and family look."""

import csv
import io
import uuid
from datetime import date

import pytest

from canteen.allergy_alerts import orders_recheck_allergens
from canteen.models import FoodProfile, Order, OrderStatus
from core.models import Notification
from tests.canteen.label_reader import labels_of, read_labels
from tests.factories import GuardianLinkFactory, StaffFactory

pytestmark = pytest.mark.django_db
THURSDAY = date(2026, 12, 3)
SATAY_PEANUT = lambda canteen: {"menu_item_id": canteen.satay.pk, "name": "Satay skewer", "allergens": ["peanut"]}  # noqa: E731


def declare(canteen, **fields):
    return canteen.guardian_client.patch(f"/api/v1/students/{canteen.student.pk}/food-profile", fields, format="json")


def kitchen_views(client, day="2026-12-02"):
    prep = client.get(f"/api/v1/canteen/prep-list?date={day}").json()
    rows = list(csv.DictReader(io.StringIO(client.get(f"/api/v1/canteen/prep-list.csv?date={day}").content.decode())))
    printed = read_labels(client.get(f"/api/v1/canteen/labels.pdf?date={day}").content)
    return prep, rows, printed


@pytest.fixture
def ordered(canteen, client_for):
    """Satay and juice ordered for Wednesday; a canteen staff member and a second guardian of the same child."""
    response = canteen.order([(canteen.satay, 1), (canteen.juice, 1)])
    assert response.status_code == 201
    kitchen = StaffFactory(school=canteen.school, roles=["canteen"])
    co_parent = GuardianLinkFactory(student=canteen.student)
    return response.json(), client_for(kitchen.user), kitchen, co_parent


def test_an_allergy_declared_after_ordering_flags_the_order_prep_list_label_and_notifies(canteen, ordered):
    order, staff, kitchen, co_parent = ordered

    assert declare(canteen, allergens=["peanut"]).status_code == 200

    shown = canteen.guardian_client.get(f"/api/v1/canteen/orders/{order['id']}").json()
    assert shown["allergen_alerts"] == [SATAY_PEANUT(canteen)]
    assert shown["status"] == "placed"  # not cancelled behind anyone's back: the kitchen withholds the item
    prep, rows, printed = kitchen_views(staff)
    (label,) = prep["labels"]
    assert label["allergen_alerts"] == [SATAY_PEANUT(canteen)]
    assert {item["name"]: item["do_not_serve"] for item in label["items"]} == {"Satay skewer": True, "Apple juice": False}
    assert [alert["order_id"] for alert in prep["alerts"]] == [order["id"]]
    assert rows[0]["allergy_alert"] == "DO NOT SERVE: Satay skewer (PEANUT)" and rows[0]["allergens"] == "PEANUT"
    lines = labels_of(printed, order["receipt_number"])[0].lines
    assert "DO NOT SERVE: Satay skewer (PEANUT)" in lines and "DO NOT SERVE 1 x Satay skewer" in lines
    guardian_notices = Notification.objects.filter(kind="canteen_allergy_alert", user__guardian__isnull=False)
    assert sorted(n.user_id for n in guardian_notices) == sorted([canteen.link.guardian.user_id, co_parent.guardian.user_id])
    (kitchen_notice,) = Notification.objects.filter(kind="canteen_allergy_alert", user=kitchen.user)
    assert "DO NOT SERVE" in kitchen_notice.title and "Satay skewer (PEANUT)" in kitchen_notice.body
    assert kitchen_notice.data == {
        "student_id": canteen.student.pk,
        "orders": [{"order_id": order["id"], "service_date": "2026-12-02", "alerts": [SATAY_PEANUT(canteen)]}],
    }


def test_removing_the_allergy_clears_the_flag_without_a_new_notice(canteen, ordered):
    order, staff, _, _ = ordered
    declare(canteen, allergens=["peanut"])
    notices = Notification.objects.filter(kind="canteen_allergy_alert").count()

    assert declare(canteen, allergens=[]).status_code == 200

    assert canteen.guardian_client.get(f"/api/v1/canteen/orders/{order['id']}").json()["allergen_alerts"] == []
    prep, rows, printed = kitchen_views(staff)
    assert prep["alerts"] == [] and prep["labels"][0]["allergen_alerts"] == []
    assert rows[0]["allergy_alert"] == ""
    assert not any("DO NOT SERVE" in line for label in printed for line in label.lines)
    assert Notification.objects.filter(kind="canteen_allergy_alert").count() == notices == 3


def test_a_profile_saved_outside_the_api_is_rechecked_too(canteen, ordered):
    """What the admin and a shell do: save (or delete) the row."""
    order, _, _, _ = ordered
    wrap_order = canteen.order([(canteen.wrap, 1)], day=THURSDAY).json()

    profile = FoodProfile.objects.get(student=canteen.student)  # made, empty, when the first order was placed
    profile.allergens = ["egg"]
    profile.save()
    assert Order.objects.get(pk=order["id"]).allergen_alerts == []
    assert Order.objects.get(pk=wrap_order["id"]).allergen_alerts == [{"menu_item_id": canteen.wrap.pk, "name": "Chicken wrap", "allergens": ["egg"]}]

    profile.allergens = ["gluten", "egg", "peanut"]
    profile.save()
    assert Order.objects.get(pk=order["id"]).allergen_alerts == [SATAY_PEANUT(canteen)]
    assert Order.objects.get(pk=wrap_order["id"]).allergen_alerts[0]["allergens"] == ["egg", "gluten"]

    profile.delete()
    assert [Order.objects.get(pk=pk).allergen_alerts for pk in (order["id"], wrap_order["id"])] == [[], []]


def test_a_notice_goes_out_once_per_change_and_again_when_the_flag_grows(canteen, ordered):
    _, _, kitchen, _ = ordered
    canteen.order([(canteen.wrap, 1)], day=THURSDAY)
    kitchen_notices = Notification.objects.filter(kind="canteen_allergy_alert", user=kitchen.user)

    declare(canteen, allergens=["egg"])
    assert kitchen_notices.count() == 1
    assert orders_recheck_allergens(student_id=canteen.student.pk) == []  # run twice: nothing new
    declare(canteen, allergens=["egg"], notes="EpiPen in the office")  # saved, allergens unchanged
    assert kitchen_notices.count() == 1

    declare(canteen, allergens=["egg", "peanut"])  # Wednesday's satay is now flagged too
    assert kitchen_notices.count() == 2
    assert [o["order_id"] for o in kitchen_notices.order_by("-id").first().data["orders"]] == [
        Order.objects.get(service_date="2026-12-02").pk
    ]

    declare(canteen, allergens=[])
    declare(canteen, allergens=["egg"])  # removed, then declared again: news again
    assert kitchen_notices.count() == 3


def test_only_open_orders_are_flagged(canteen, ordered, at, client_for):
    order, _, _, _ = ordered
    thursday = canteen.order([(canteen.satay, 1)], day=THURSDAY).json()
    canteen.guardian_client.post(f"/api/v1/canteen/orders/{thursday['id']}/cancel")
    assert Order.objects.get(pk=thursday["id"]).status == OrderStatus.CANCELLED

    with at("2026-12-02T03:00:00Z"):  # Wednesday lunchtime: the order is handed over
        staff = client_for(StaffFactory(school=canteen.school, roles=["canteen"]).user)
        assert staff.post(f"/api/v1/canteen/orders/{order['id']}/collect").status_code == 200
        declare(canteen, allergens=["peanut"])

    assert Order.objects.get(pk=order["id"]).allergen_alerts == []  # eaten already: nothing to withhold
    assert Order.objects.get(pk=thursday["id"]).allergen_alerts == []
    assert not Notification.objects.filter(kind="canteen_allergy_alert").exists()


def test_changing_the_order_to_safe_items_clears_the_flag(canteen, ordered):
    order, _, _, _ = ordered
    declare(canteen, allergens=["peanut"])

    changed = canteen.guardian_client.put(
        f"/api/v1/canteen/orders/{order['id']}",
        {"items": [{"item_id": canteen.juice.pk, "quantity": 2}]},
        format="json",
        HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex,
    )

    assert changed.status_code == 200
    assert changed.json()["allergen_alerts"] == [] and Order.objects.get(pk=order["id"]).allergen_alerts == []


def test_an_allergen_added_to_an_ordered_item_flags_the_order_too(canteen, ordered):
    """The kitchen cooks today's recipe: the line's copy of the allergens is not the last word."""
    order, staff, kitchen, _ = ordered
    declare(canteen, allergens=["sesame"])
    assert Order.objects.get(pk=order["id"]).allergen_alerts == []

    changed = staff.patch(f"/api/v1/canteen/menu-items/{canteen.juice.pk}", {"allergens": ["sesame"]}, format="json")

    assert changed.status_code == 200
    juice_alert = {"menu_item_id": canteen.juice.pk, "name": "Apple juice", "allergens": ["sesame"]}
    assert canteen.guardian_client.get(f"/api/v1/canteen/orders/{order['id']}").json()["allergen_alerts"] == [juice_alert]
    prep, rows, _ = kitchen_views(staff)
    assert prep["labels"][0]["allergen_alerts"] == [juice_alert]
    assert rows[0]["allergy_alert"] == "DO NOT SERVE: Apple juice (SESAME)"
    assert Notification.objects.filter(kind="canteen_allergy_alert", user=kitchen.user).count() == 1
