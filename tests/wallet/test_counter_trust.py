"""Trust at the counter: a charge's categories come from the merchant's registration, and only merchants a
card's school has enabled can charge (or even recognise) its cards."""

import uuid

import pytest
import time_machine

from canteen.models import FoodProfile
from tests.canteen.conftest import MONDAY_MORNING, make_canteen
from tests.factories import (
    CardAcceptanceFactory,
    GuardianLinkFactory,
    MerchantFactory,
    SchoolFactory,
    StudentCardFactory,
    give_card_money,
)
from tests.wallet.conftest import assert_ledger_consistent
from wallet import accounts
from wallet.card_acceptance import card_acceptance_disable, card_acceptance_enable
from wallet.models import Account, CardAcceptance, CardCharge, Entry, LedgerTransaction, SpendingControls

pytestmark = pytest.mark.django_db

CHARGES = "/api/v1/terminal/charges"


def post(client, url, body):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)


def charge(client, card_number, amount=350, **extra):
    return post(client, CHARGES, {"card_identifier": card_number, "amount": amount, **extra})


def ledger_state():
    """Everything a charge could write: transactions, entries, every balance, charges."""
    balances = sorted(Account.objects.values_list("pk", "balance", "held"))
    return LedgerTransaction.objects.count(), Entry.objects.count(), balances, CardCharge.objects.count()


@pytest.fixture
def banned_canteen(card_world):
    """card_world's guardian has banned `canteen`; the card has money; the terminal is the school's canteen."""
    give_card_money(card_world.student, 5000)
    SpendingControls.objects.create(student=card_world.student, banned_categories=["canteen"])
    return card_world


# --- Categories: the merchant's registration decides ---------------------------------------


@pytest.mark.parametrize("sent", [{}, {"categories": []}], ids=["omitted", "empty"])
def test_a_ban_applies_to_a_charge_that_names_no_category(banned_canteen, sent):
    before = ledger_state()

    response = charge(banned_canteen.terminal_client, banned_canteen.card_number, **sent)

    assert response.status_code == 402, response.content
    assert response.json()["code"] == "category_banned"
    assert response.json()["details"] == {"banned_categories": ["canteen"]}
    assert ledger_state() == before


def test_a_category_the_merchant_is_not_registered_for_is_refused(banned_canteen):
    before = ledger_state()

    response = charge(banned_canteen.terminal_client, banned_canteen.card_number, categories=["uniform_shop"])

    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "category_not_registered"
    assert body["details"] == {"categories": ["uniform_shop"], "registered": ["canteen"]}
    assert ledger_state() == before


def test_adding_an_unregistered_category_to_a_registered_one_is_refused(banned_canteen):
    response = charge(banned_canteen.terminal_client, banned_canteen.card_number, categories=["canteen", "other"])

    assert response.status_code == 422
    assert response.json()["code"] == "category_not_registered"
    assert response.json()["details"]["categories"] == ["other"]


def test_an_unnamed_charge_is_in_the_merchants_one_category(card_world):
    give_card_money(card_world.student, 1000)

    response = charge(card_world.terminal_client, card_world.card_number)

    assert response.status_code == 201, response.content
    assert response.json()["categories"] == ["canteen"]
    charge_row = CardCharge.objects.get(pk=response.json()["charge_id"])
    assert charge_row.categories == ["canteen"]
    assert charge_row.transaction.metadata["categories"] == ["canteen"]


@pytest.fixture
def school_shop(card_world, terminal_client):
    """A school merchant registered for two categories; card_world's guardian banned one of them."""
    give_card_money(card_world.student, 5000)
    SpendingControls.objects.create(student=card_world.student, banned_categories=["canteen"])
    shop = MerchantFactory(school=card_world.student.school, categories=["canteen", "uniform_shop"])
    return terminal_client(shop)


@pytest.mark.parametrize("sent", [{}, {"categories": []}], ids=["omitted", "empty"])
def test_a_merchant_of_several_categories_must_name_one(card_world, school_shop, sent):
    before = ledger_state()

    response = charge(school_shop, card_world.card_number, **sent)

    assert response.status_code == 422, response.content
    assert response.json()["code"] == "category_required"
    assert response.json()["details"] == {"registered": ["canteen", "uniform_shop"]}
    assert ledger_state() == before


def test_a_merchant_of_several_categories_narrows_to_what_it_sells(card_world, school_shop):
    declined = charge(school_shop, card_world.card_number, categories=["canteen"])
    declined_both = charge(school_shop, card_world.card_number, categories=["uniform_shop", "canteen"])
    approved = charge(school_shop, card_world.card_number, categories=["uniform_shop"])

    assert (declined.status_code, declined.json()["code"]) == (402, "category_banned")
    assert (declined_both.status_code, declined_both.json()["code"]) == (402, "category_banned")
    assert approved.status_code == 201, approved.content
    assert approved.json()["categories"] == ["uniform_shop"]
    assert CardCharge.objects.get().categories == ["uniform_shop"]
    assert_ledger_consistent()


def test_a_category_is_checked_before_the_card_is_looked_up(banned_canteen):
    """An unregistered category says nothing about the card: the same answer for a real and an unknown one."""
    real = charge(banned_canteen.terminal_client, banned_canteen.card_number, categories=["music"])
    unknown = charge(banned_canteen.terminal_client, "NOPE-0000-0000", categories=["music"])

    assert real.status_code == unknown.status_code == 422
    assert real.content == unknown.content


# --- Who may charge a card: the card's school decides ----------------------------------------


def assert_answers_as_an_unknown_card(client, card_number):
    """The same status, headers that matter and body, byte for byte, as a card that does not exist; nothing written."""
    before = ledger_state()
    refused = charge(client, card_number)
    unknown = charge(client, "NOPE-0000-0000")

    assert refused.status_code == unknown.status_code == 402
    assert refused["Content-Type"] == unknown["Content-Type"] == "application/problem+json"
    assert refused.content == unknown.content
    assert refused.json()["code"] == "unknown_card"
    assert ledger_state() == before


def test_another_schools_canteen_cannot_charge_a_card_and_learns_nothing(card_world, terminal_client):
    give_card_money(card_world.student, 5000)
    other_canteen = MerchantFactory(school=SchoolFactory())  # enabled at its own school only

    assert_answers_as_an_unknown_card(terminal_client(other_canteen), card_world.card_number)
    assert card_world.student.first_name.encode() not in charge(terminal_client(other_canteen), card_world.card_number).content


def test_a_voucher_provider_cannot_charge_student_cards(card_world, terminal_client):
    give_card_money(card_world.student, 5000)
    swim_club = MerchantFactory(name="Harbourside Swim Club", categories=["sport"])

    assert_answers_as_an_unknown_card(terminal_client(swim_club), card_world.card_number)


def test_a_schools_own_merchant_it_has_not_enabled_cannot_charge(card_world, terminal_client):
    give_card_money(card_world.student, 5000)
    shop = MerchantFactory(school=card_world.student.school, accepts_school_cards=False)

    assert_answers_as_an_unknown_card(terminal_client(shop), card_world.card_number)


def test_a_frozen_card_at_a_merchant_not_enabled_is_still_just_unknown(card_world, terminal_client):
    """No decline reason (frozen, banned, broke) reaches a merchant the school has not enabled."""
    card_world.card.status = "frozen"
    card_world.card.save(update_fields=["status"])

    assert_answers_as_an_unknown_card(terminal_client(MerchantFactory(school=SchoolFactory())), card_world.card_number)


def test_a_merchant_the_school_enables_can_charge_until_it_is_disabled(card_world, terminal_client):
    give_card_money(card_world.student, 5000)
    school = card_world.student.school
    swim_club = MerchantFactory(categories=["sport"])
    till = terminal_client(swim_club)
    card_acceptance_enable(school=school, merchant=swim_club, enabled_by=None)

    approved = charge(till, card_world.card_number)
    card_acceptance_disable(school=school, merchant=swim_club, disabled_by=None)

    assert approved.status_code == 201, approved.content
    assert approved.json()["categories"] == ["sport"]
    assert_answers_as_an_unknown_card(till, card_world.card_number)
    history = CardAcceptance.objects.get(school=school, merchant=swim_club)
    assert history.disabled_at is not None


def test_enabling_at_one_school_does_not_open_another_schools_cards(card_world, terminal_client):
    give_card_money(card_world.student, 5000)
    provider = MerchantFactory(categories=["sport"])
    CardAcceptanceFactory(school=SchoolFactory(), merchant=provider)

    assert_answers_as_an_unknown_card(terminal_client(provider), card_world.card_number)


def test_a_refund_of_its_own_charge_still_works_after_the_school_disables_the_merchant(card_world):
    """Refunds only give the child's money back, so a disabled merchant can still undo its own charge."""
    give_card_money(card_world.student, 1000)
    till = card_world.terminal_client
    charged = charge(till, card_world.card_number, amount=400)
    card_acceptance_disable(school=card_world.student.school, merchant=till.terminal.merchant, disabled_by=None)

    refunded = post(till, f"{CHARGES}/{charged.json()['charge_id']}/refunds", {})

    assert refunded.status_code == 201, refunded.content
    assert "student" not in refunded.json()
    assert accounts.student_card_account(card_world.student).balance == 1000
    assert_ledger_consistent()


def test_another_merchants_charge_cannot_be_refunded_even_where_it_is_enabled(card_world, terminal_client):
    give_card_money(card_world.student, 1000)
    charged = charge(card_world.terminal_client, card_world.card_number, amount=400)
    second = MerchantFactory(school=card_world.student.school)  # also enabled at the student's school
    before = ledger_state()

    response = post(terminal_client(second), f"{CHARGES}/{charged.json()['charge_id']}/refunds", {})

    assert (response.status_code, response.json()["code"]) == (404, "charge_not_found")
    assert ledger_state() == before


# --- The canteen counter sale charges cards too ---------------------------------------------


def sell(client, card_number, item):
    return post(client, "/api/v1/terminal/canteen/sales", {"card_identifier": card_number, "items": [{"item_id": item.pk, "quantity": 1}]})


@pytest.fixture
def two_canteens(client_for):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        yield make_canteen(client_for), make_canteen(client_for)


def test_another_schools_counter_sale_answers_as_an_unknown_card_before_any_food_rule(two_canteens, terminal_client):
    ours, theirs = two_canteens
    StudentCardFactory(student=ours.student, identifier="CANTEEN-CARD-1")
    give_card_money(ours.student, 5000)
    # The allergy would name the child (allergen_conflict) if the food rules ran first.
    FoodProfile.objects.create(student=ours.student, allergens=["peanut"])
    till = terminal_client(theirs.settings.merchant)
    before = ledger_state()

    refused = sell(till, "CANTEEN-CARD-1", theirs.satay)
    unknown = sell(till, "NOPE-0000-0000", theirs.satay)

    assert refused.status_code == unknown.status_code == 402
    assert refused.content == unknown.content
    assert refused.json()["code"] == "unknown_card"
    assert ours.student.first_name.encode() not in refused.content
    assert ledger_state() == before


def test_a_counter_sale_is_a_canteen_charge_the_merchant_must_be_registered_for(two_canteens, terminal_client):
    ours, _ = two_canteens
    StudentCardFactory(student=ours.student, identifier="CANTEEN-CARD-1")
    give_card_money(ours.student, 5000)
    merchant = ours.settings.merchant
    merchant.categories = ["uniform_shop"]
    merchant.save(update_fields=["categories"])
    before = ledger_state()

    response = sell(terminal_client(merchant), "CANTEEN-CARD-1", ours.juice)

    assert response.status_code == 422, response.content
    assert response.json()["code"] == "category_not_registered"
    assert ledger_state() == before


def test_a_counter_sale_is_declined_by_a_canteen_ban(two_canteens, terminal_client):
    ours, _ = two_canteens
    StudentCardFactory(student=ours.student, identifier="CANTEEN-CARD-1")
    give_card_money(ours.student, 5000)
    SpendingControls.objects.create(student=ours.student, banned_categories=["canteen"])

    response = sell(terminal_client(ours.settings.merchant), "CANTEEN-CARD-1", ours.juice)

    assert (response.status_code, response.json()["code"]) == (402, "category_banned")


# --- Merchants' registration ----------------------------------------------------------------


def test_a_merchant_must_be_registered_for_some_category():
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        MerchantFactory(categories=[])


def test_a_school_has_one_live_acceptance_per_merchant_and_enabling_twice_changes_nothing():
    link = GuardianLinkFactory()
    merchant = MerchantFactory(categories=["sport"])

    first = card_acceptance_enable(school=link.student.school, merchant=merchant, enabled_by=None)
    again = card_acceptance_enable(school=link.student.school, merchant=merchant, enabled_by=None)

    assert first.pk == again.pk
    assert CardAcceptance.objects.filter(merchant=merchant).count() == 1


# --- School admins manage who may charge their cards -----------------------------------------


def test_a_school_admin_enables_lists_and_disables_a_merchant(card_world, client_for, terminal_client):
    from tests.factories import StaffFactory

    give_card_money(card_world.student, 5000)
    school = card_world.student.school
    admin = client_for(StaffFactory(school=school, roles=["admin"]).user)
    uniform_shop = MerchantFactory(name="Uniforms Direct", categories=["uniform_shop"])
    till = terminal_client(uniform_shop)
    assert charge(till, card_world.card_number).json()["code"] == "unknown_card"

    enabled = admin.put(f"/api/v1/card-merchants/{uniform_shop.pk}")
    enabled_again = admin.put(f"/api/v1/card-merchants/{uniform_shop.pk}")
    listed = admin.get("/api/v1/card-merchants")
    approved = charge(till, card_world.card_number)
    disabled = admin.delete(f"/api/v1/card-merchants/{uniform_shop.pk}")
    disabled_again = admin.delete(f"/api/v1/card-merchants/{uniform_shop.pk}")

    assert enabled.status_code == enabled_again.status_code == 200, enabled.content
    assert enabled.json()["merchant_name"] == "Uniforms Direct"
    assert enabled.json()["merchant_categories"] == ["uniform_shop"]
    names = [row["merchant_name"] for row in listed.json()["results"]]
    assert names == ["Uniforms Direct", card_world.terminal_client.terminal.merchant.name]  # the latest first
    assert approved.status_code == 201
    assert disabled.status_code == 204
    assert (disabled_again.status_code, disabled_again.json()["code"]) == (404, "card_acceptance_not_found")
    assert charge(till, card_world.card_number).json()["code"] == "unknown_card"
    row = CardAcceptance.objects.get(school=school, merchant=uniform_shop)
    assert row.enabled_by.staff.school == school and row.disabled_by == row.enabled_by


def test_only_a_school_admin_manages_card_merchants_and_only_for_their_school(card_world, client_for):
    from tests.factories import StaffFactory

    merchant = MerchantFactory(categories=["sport"])
    canteen_staff = client_for(StaffFactory(school=card_world.student.school, roles=["canteen"]).user)
    guardian = card_world.guardian_client
    other_admin = client_for(StaffFactory(roles=["admin"]).user)

    assert canteen_staff.put(f"/api/v1/card-merchants/{merchant.pk}").status_code == 403
    assert guardian.get("/api/v1/card-merchants").status_code == 403
    assert other_admin.put(f"/api/v1/card-merchants/{merchant.pk}").status_code == 200
    assert other_admin.put("/api/v1/card-merchants/999999").status_code == 404
    own_canteen = card_world.terminal_client.terminal.merchant
    assert other_admin.delete(f"/api/v1/card-merchants/{own_canteen.pk}").status_code == 404
    assert CardAcceptance.objects.filter(merchant=own_canteen, disabled_at__isnull=True).count() == 1
    assert not CardAcceptance.objects.filter(school=card_world.student.school, merchant=merchant).exists()


def test_operators_enable_and_disable_card_merchants_in_the_admin(client):
    from tests.factories import UserFactory

    operator = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    school, merchant = SchoolFactory(), MerchantFactory(categories=["sport"])

    added = client.post("/admin/wallet/cardacceptance/add/", {"school": school.pk, "merchant": merchant.pk})
    row = CardAcceptance.objects.get(school=school, merchant=merchant)
    listed = client.get("/admin/wallet/cardacceptance/")
    disabled = client.post("/admin/wallet/cardacceptance/", {"action": "disable", "_selected_action": [row.pk]})
    row.refresh_from_db()

    assert added.status_code == 302, added.content
    assert row.enabled_by == operator
    assert listed.status_code == 200 and merchant.name.encode() in listed.content
    assert disabled.status_code == 302
    assert row.disabled_at is not None and row.disabled_by == operator
    assert client.get("/admin/wallet/merchant/").status_code == 200


def test_the_migration_lets_each_school_keep_its_own_merchants_and_no_one_else():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("wallet.migrations.0004_card_acceptance_and_merchant_categories")
    school = SchoolFactory()
    own = MerchantFactory(school=school, accepts_school_cards=False)
    already = MerchantFactory(school=SchoolFactory())  # has its live row
    outside = MerchantFactory(categories=["sport"])

    migration.schools_accept_their_own_merchants(apps, None)
    migration.schools_accept_their_own_merchants(apps, None)  # once is enough; again changes nothing

    live = CardAcceptance.objects.filter(disabled_at__isnull=True)
    assert sorted(live.values_list("merchant_id", "school_id")) == sorted([(own.pk, school.pk), (already.pk, already.school_id)])
    assert not CardAcceptance.objects.filter(merchant=outside).exists()


def test_a_school_admin_cannot_enable_another_schools_canteen(card_world, client_for, terminal_client):
    from tests.factories import StaffFactory

    give_card_money(card_world.student, 5000)
    school = card_world.student.school
    admin = client_for(StaffFactory(school=school, roles=["admin"]).user)
    other_canteen = MerchantFactory(school=SchoolFactory(), name="Another School Canteen", categories=["canteen"])

    answer = admin.put(f"/api/v1/card-merchants/{other_canteen.pk}")

    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    assert "Another School Canteen" not in answer.content.decode()
    assert not CardAcceptance.objects.filter(school=school, merchant=other_canteen).exists()
    assert charge(terminal_client(other_canteen), card_world.card_number).json()["code"] == "unknown_card"
