"""What the vouchers and events apps publish: once per redemption, payout and confirmed place."""

import pytest
import time_machine

from guardians.webhook_subscriptions import webhook_subscription_create
from tests.factories import MerchantFactory, StaffFactory
from tests.webhooks.conftest import events_of, subscribe
from wallet.terminal_keys import terminal_create

pytestmark = pytest.mark.django_db


def test_voucher_redeemed_and_settlement_paid(settings, receiver):
    from tests.vouchers.factories import app_qr, approve, issue, make_program
    from vouchers.redemption import Credential, voucher_redeem
    from vouchers.settlement import settle_all

    settings.PAYMENT_GATEWAY = "fake"
    with time_machine.travel("2026-03-02T10:00:00+11:00", tick=False):  # a Monday in term 1
        program = make_program()
        webhook_subscription_create(
            url=receiver.url, event_types=["voucher.redeemed", "voucher.settlement_paid"], program_id=program.pk,
            created_by=program.administrators.get().user,
        )
        merchant = MerchantFactory(categories=["sport"])
        approve(program, merchant)
        terminal, _ = terminal_create(merchant=merchant, label="Desk")
        [voucher] = issue(program)
        def redeem():
            return voucher_redeem(
                terminal=terminal, credentials=[Credential(qr=app_qr(voucher))], amount=6000, category="sport", description="Swim", reference="r-1"
            )

        redemption = redeem().redemption
        assert redeem().replayed  # the same sale again: nothing more to announce
    with time_machine.travel("2026-03-03T10:00:00+11:00", tick=False):
        [settlement] = settle_all()
        settle_all()
        settlement.refresh_from_db()
    assert settlement.status == "paid"

    [redeemed] = events_of("voucher.redeemed")
    assert (redeemed.program_id, redeemed.school_id) == (program.pk, None)
    assert redeemed.data == {
        "redemption_id": redemption.pk, "merchant_id": merchant.pk, "amount": 6000, "currency": "AUD", "category": "sport",
        "voucher_ids": [voucher.pk], "created_at": "2026-03-01T23:00:00Z",
    }
    [paid] = events_of("voucher.settlement_paid")
    assert paid.data == {
        "settlement_id": settlement.pk, "merchant_id": merchant.pk, "business_date": "2026-03-02", "amount": 6000, "currency": "AUD",
        "paid_at": paid.data["paid_at"],
    }
    assert paid.data["paid_at"] is not None


def test_signup_confirmed(client_for, receiver, settings):
    from events.models import Signup
    from tests.events.conftest import family, make_event, sign

    settings.PAYMENT_GATEWAY = "fake"
    staff = StaffFactory(roles=["admin"])
    link = family(staff.school)
    subscribe(receiver.url, ["event.signup_confirmed"], school=staff.school)
    event = make_event(staff, cost=0)
    response = sign(client_for(link.guardian.user), event, link.student_id)
    assert response.status_code == 201, response.content
    signup = Signup.objects.get(pk=response.json()["id"])
    assert signup.status == "confirmed"  # a free event

    [confirmed] = events_of("event.signup_confirmed")
    assert confirmed.school_id == staff.school_id
    assert {k: v for k, v in confirmed.data.items() if k != "confirmed_at"} == {
        "signup_id": signup.pk, "event_id": event.pk, "student_id": link.student_id, "amount_paid": 0, "currency": "AUD",
    }


def test_a_paid_place_is_confirmed_once(client_for, receiver, settings):
    import uuid

    from tests.events.conftest import family, make_event, sign
    from tests.factories import give_wallet_money

    settings.PAYMENT_GATEWAY = "fake"
    staff = StaffFactory(roles=["admin"])
    link = family(staff.school)
    give_wallet_money(link.guardian, 5000)
    subscribe(receiver.url, ["event.signup_confirmed"], school=staff.school)
    client = client_for(link.guardian.user)
    signup_id = sign(client, make_event(staff, cost=2500), link.student_id).json()["id"]
    assert events_of("event.signup_confirmed") == []  # awaiting payment

    key = uuid.uuid4().hex
    for _ in range(2):
        assert client.post(f"/api/v1/signups/{signup_id}/pay", format="json", HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    [confirmed] = events_of("event.signup_confirmed")
    assert (confirmed.data["signup_id"], confirmed.data["amount_paid"]) == (signup_id, 2500)
