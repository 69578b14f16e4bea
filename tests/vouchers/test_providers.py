"""Merchants apply (through a terminal) to accept a program; administrators approve with evidence, suspend, reinstate."""

import pytest

from tests.factories import MerchantFactory
from tests.helpers import assert_problem
from tests.vouchers.conftest import post, redeem, sydney
from tests.vouchers.factories import app_qr, issue
from vouchers.models import PayoutDestination, ProviderApproval

pytestmark = pytest.mark.django_db

APPLICATION = {"categories": ["sport"], "abn": "51 824 753 556", "insurance_expires_on": "2027-06-30", "wwcc_expires_on": "2028-01-31", "note": "Learn to swim"}
EVIDENCE = {"abn": "51824753556", "insurance_expires_on": "2027-06-30", "wwcc_expires_on": "2028-01-31"}


@pytest.fixture
def club(world, terminal_client):
    merchant = MerchantFactory(name="Bondi Nippers", categories=["sport"])
    return merchant, terminal_client(merchant)


def apply(client, program, **overrides):
    return post(client, "/api/v1/terminal/voucher-provider-applications", {**APPLICATION, "program_id": program.pk, **overrides})


def decide(world, approval_id, decision, body=None):
    return post(world.admin_client, f"/api/v1/voucher-programs/{world.program.pk}/providers/{approval_id}/{decision}", body or {})


def test_a_merchant_applies_and_is_approved_with_evidence_then_redeems(world, club):
    merchant, client = club
    [voucher] = issue(world.program, link=world.link)

    applied = apply(client, world.program)
    assert applied.status_code == 201, applied.content
    assert (applied.json()["status"], applied.json()["abn"], applied.json()["merchant_name"]) == ("pending", "51824753556", "Bondi Nippers")
    approval_id = applied.json()["id"]
    assert_problem(redeem(client, [{"qr": app_qr(voucher)}], 100), 403, "merchant_not_approved")
    listed = world.admin_client.get(f"/api/v1/voucher-programs/{world.program.pk}/providers?status=pending").json()
    assert [row["id"] for row in listed] == [approval_id]

    assert_problem(decide(world, approval_id, "approve", {**EVIDENCE, "wwcc_expires_on": None}), 422, "wwcc_required")
    assert_problem(decide(world, approval_id, "approve", {**EVIDENCE, "insurance_expires_on": "2026-03-01"}), 422, "evidence_expired")
    approved = decide(world, approval_id, "approve", {**EVIDENCE, "expires_on": "2026-12-31", "stripe_account_id": "acct_1BondiNippers01"})

    assert approved.status_code == 200, approved.content
    assert (approved.json()["status"], approved.json()["expires_on"]) == ("approved", "2026-12-31")
    assert PayoutDestination.objects.get(merchant=merchant).stripe_account_id == "acct_1BondiNippers01"
    assert redeem(client, [{"qr": app_qr(voucher)}], 100).status_code == 201
    assert client.get("/api/v1/terminal/voucher-provider-applications").json()[0]["status"] == "approved"


def test_suspend_and_reinstate(world, club):
    _, client = club
    approval_id = apply(client, world.program).json()["id"]
    decide(world, approval_id, "approve", EVIDENCE)
    [voucher] = issue(world.program, link=world.link)

    assert decide(world, approval_id, "suspend", {"reason": "Complaint under review"}).json()["status"] == "suspended"
    body = assert_problem(redeem(client, [{"qr": app_qr(voucher)}], 100), 403, "merchant_approval_suspended")
    assert body["details"] == {"reason": "Complaint under review"}
    assert_problem(decide(world, approval_id, "reject"), 409, "approval_state_invalid")

    assert decide(world, approval_id, "reinstate").json()["status"] == "approved"
    assert redeem(client, [{"qr": app_qr(voucher)}], 100).status_code == 201


def test_an_approval_stops_working_the_day_after_it_expires(world, club, clock_at):
    _, client = club
    approval_id = apply(client, world.program).json()["id"]
    decide(world, approval_id, "approve", {**EVIDENCE, "expires_on": "2026-06-30"})
    [voucher] = issue(world.program, link=world.link)

    clock_at(sydney(2026, 6, 30, 23, 59))
    assert redeem(client, [{"qr": app_qr(voucher)}], 100).status_code == 201
    clock_at(sydney(2026, 7, 1, 0, 0))
    body = assert_problem(redeem(client, [{"qr": app_qr(voucher)}], 100), 403, "merchant_approval_expired")
    assert body["details"] == {"lapsed": ["approval"]}


def test_rejected_then_apply_again(world, club):
    _, client = club
    approval_id = apply(client, world.program).json()["id"]
    assert_problem(apply(client, world.program), 409, "provider_application_exists")

    assert decide(world, approval_id, "reject", {"reason": "ABN does not match"}).json()["status"] == "rejected"
    assert apply(client, world.program).status_code == 201
    assert ProviderApproval.objects.filter(merchant=club[0]).count() == 2


def test_applications_are_checked(world, club, terminal_client):
    _, client = club
    assert_problem(apply(client, world.program, abn="51824753557"), 422, "invalid_abn")
    assert_problem(apply(client, world.program, categories=["dining"]), 422, "category_not_offered")
    cafe = terminal_client(MerchantFactory(categories=["dining"]))
    assert_problem(apply(cafe, world.program), 422, "category_not_offered")  # the merchant does not trade in sport
    assert_problem(apply(client, world.program, program_id=999999), 404, "not_found")
    assert not ProviderApproval.objects.filter(merchant=club[0]).exists()
