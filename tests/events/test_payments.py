"""Paying fees from the wallet (in the app and from the email link), the waitlist and its offers,
withdrawal refunds, and staff cancellation refunding everyone once."""

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.core import mail, signing

from core.models import Notification
from events import links, services
from events.links import event_link_token
from events.models import Signup, SignupStatus
from events.services.payments import event_fees_account
from events.tasks import advance_waitlists, settle_cancelled_event
from tests.events.conftest import family, make_event, sign
from tests.factories import GuardianLinkFactory, give_wallet_money
from tests.helpers import assert_problem
from tests.wallet.conftest import assert_ledger_consistent
from wallet import accounts
from wallet.models import Entry, LedgerTransaction

pytestmark = pytest.mark.django_db


def _key():
    return {"HTTP_IDEMPOTENCY_KEY": uuid.uuid4().hex}


def pay(client, signup_id):
    return client.post(f"/api/v1/signups/{signup_id}/pay", format="json", **_key())


def withdraw(client, signup_id):
    return client.post(f"/api/v1/signups/{signup_id}/withdraw", format="json", **_key())


def _signed(world, client_for, **event_fields):
    event = make_event(world.admin, **event_fields)
    client = client_for(world.link.guardian.user)
    return event, client, sign(client, event, world.student.pk).json()["id"]


def test_paying_from_the_wallet_confirms_the_place_with_one_balanced_transaction(world, client_for):
    event, client, signup_id = _signed(world, client_for)
    give_wallet_money(world.link.guardian, 4000)

    response = pay(client, signup_id)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["signup"]["status"] == "confirmed"
    assert body["signup"]["amount_paid"] == 2500 and body["signup"]["payment_method"] == "wallet"
    assert body["wallet_balance"] == 1500
    posted = LedgerTransaction.objects.get(reference=f"event_fee:signup:{signup_id}")
    assert body["transaction_id"] == posted.pk and posted.kind == "event_fee"
    wallet, fees = accounts.guardian_wallet(world.link.guardian), event_fees_account(event)
    assert sorted(Entry.objects.filter(transaction=posted).values_list("account_id", "amount")) == sorted([(wallet.pk, -2500), (fees.pk, 2500)])
    assert fees.balance == 2500
    assert_ledger_consistent()


def test_paying_twice_and_paying_without_money_are_refused(world, client_for):
    _, client, signup_id = _signed(world, client_for)
    give_wallet_money(world.link.guardian, 1000)
    assert_problem(pay(client, signup_id), 402, "insufficient_funds")
    assert Signup.objects.get(pk=signup_id).status == SignupStatus.AWAITING_PAYMENT
    give_wallet_money(world.link.guardian, 2000)
    assert pay(client, signup_id).status_code == 201
    assert_problem(pay(client, signup_id), 409, "signup_already_paid")
    assert LedgerTransaction.objects.filter(kind="event_fee").count() == 1
    assert accounts.guardian_wallet(world.link.guardian).balance == 500


def test_a_replayed_idempotency_key_does_not_pay_twice(world, client_for):
    _, client, signup_id = _signed(world, client_for)
    give_wallet_money(world.link.guardian, 5000)
    key = _key()
    first = client.post(f"/api/v1/signups/{signup_id}/pay", format="json", **key)
    again = client.post(f"/api/v1/signups/{signup_id}/pay", format="json", **key)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert accounts.guardian_wallet(world.link.guardian).balance == 2500


def test_the_email_link_pays_without_signing_in_and_only_for_its_own_family(world, client_for, api_client):
    event, _, signup_id = _signed(world, client_for)
    give_wallet_money(world.link.guardian, 2500)
    token = event_link_token(event_id=event.pk, user_id=world.link.guardian.user_id)
    other = family(world.school)
    other_signup = sign(client_for(other.guardian.user), event, other.student_id).json()["id"]

    assert api_client.post(f"/api/v1/event-links/{token}/signups/{other_signup}/pay", **_key()).status_code == 404
    response = api_client.post(f"/api/v1/event-links/{token}/signups/{signup_id}/pay", **_key())

    assert response.status_code == 201, response.json()
    assert response.json()["signup"]["status"] == "confirmed"
    assert accounts.guardian_wallet(world.link.guardian).balance == 0
    assert_problem(api_client.post(f"/api/v1/event-links/{token}x/signups/{signup_id}/pay", **_key()), 403, "event_link_invalid")


def test_the_confirmation_email_carries_the_payment_link(world, client_for, django_capture_on_commit_callbacks):
    event = make_event(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        sign(client_for(world.link.guardian.user), event, world.student.pk)
    message = mail.outbox[-1]
    assert message.subject == f"Pay for Mia's place at {event.title}"
    assert "$25.00" in message.body and "https://tuckbox.test/api/v1/event-links/" in message.body


def test_a_freed_place_is_offered_to_the_next_family_with_a_deadline(world, client_for):
    event, client, signup_id = _signed(world, client_for, capacity=1, offer_window_hours=24)
    second, third = family(world.school), family(world.school)
    waiting = sign(client_for(second.guardian.user), event, second.student_id).json()["id"]
    sign(client_for(third.guardian.user), event, third.student_id)

    assert withdraw(client, signup_id).status_code == 200

    offered = Signup.objects.get(pk=waiting)
    assert offered.status == SignupStatus.OFFERED
    assert offered.payment_due_at == offered.offered_at + timedelta(hours=24)
    assert Notification.objects.filter(user=second.guardian.user, kind="event_signup", data__status="offered").exists()
    assert Signup.objects.get(student=third.student).status == SignupStatus.WAITLISTED


def test_an_offer_not_paid_in_time_lapses_and_passes_on(world, client_for):
    event, client, signup_id = _signed(world, client_for, capacity=1, offer_window_hours=24)
    second, third = family(world.school), family(world.school)
    waiting = sign(client_for(second.guardian.user), event, second.student_id).json()["id"]
    sign(client_for(third.guardian.user), event, third.student_id)
    withdraw(client, signup_id)
    give_wallet_money(second.guardian, 2500)

    with time_machine.travel(Signup.objects.get(pk=waiting).payment_due_at + timedelta(seconds=1)):
        assert_problem(pay(client_for(second.guardian.user), waiting), 422, "payment_deadline_passed")
        assert Signup.objects.get(pk=waiting).status == SignupStatus.OFFERED  # the refusal wrote nothing
        assert advance_waitlists() == 1

    assert Signup.objects.get(pk=waiting).status == SignupStatus.LAPSED
    assert Signup.objects.get(student=third.student).status == SignupStatus.OFFERED
    assert accounts.guardian_wallet(second.guardian).balance == 2500


def test_withdrawing_before_the_deadline_refunds_per_the_policy(world, client_for):
    event, client, signup_id = _signed(world, client_for, refund_percent=50, cost=2501)
    give_wallet_money(world.link.guardian, 2501)
    pay(client, signup_id)

    response = withdraw(client, signup_id)

    assert response.status_code == 200, response.json()
    assert response.json()["refunded"] == 1250  # half, rounded down
    assert response.json()["signup"]["status"] == "withdrawn"
    refund = LedgerTransaction.objects.get(reference=f"event_refund:signup:{signup_id}")
    assert refund.reverses.reference == f"event_fee:signup:{signup_id}"
    assert accounts.guardian_wallet(world.link.guardian).balance == 1250
    assert event_fees_account(event).balance == 1251
    assert_ledger_consistent()


def test_a_paid_place_cannot_be_withdrawn_after_the_deadline(world, client_for):
    event, client, signup_id = _signed(world, client_for)
    give_wallet_money(world.link.guardian, 2500)
    pay(client, signup_id)
    with time_machine.travel(event.signup_deadline + timedelta(minutes=1)):
        assert_problem(withdraw(client_for(world.link.guardian.user), signup_id), 409, "withdrawal_closed")
    assert Signup.objects.get(pk=signup_id).status == SignupStatus.CONFIRMED


def test_a_guardian_without_consent_permission_cannot_withdraw(world, client_for):
    _, _, signup_id = _signed(world, client_for)
    money_only = GuardianLinkFactory(student=world.student, can_give_consent=False)
    assert_problem(withdraw(client_for(money_only.guardian.user), signup_id), 403, "permission_missing")


def test_cancelling_refunds_everyone_once_and_tells_them(world, client_for, django_capture_on_commit_callbacks):
    event, client, signup_id = _signed(world, client_for)
    give_wallet_money(world.link.guardian, 2500)
    pay(client, signup_id)
    second = family(world.school)
    give_wallet_money(second.guardian, 2500)
    second_signup = sign(client_for(second.guardian.user), event, second.student_id).json()["id"]
    pay(client_for(second.guardian.user), second_signup)
    unpaid = family(world.school)
    sign(client_for(unpaid.guardian.user), event, unpaid.student_id)

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.admin.user).post(f"/api/v1/events/{event.pk}/cancel", {"reason": "Storm warning"}, format="json", **_key())
    settle_cancelled_event(event.pk)  # a second delivery of the task changes nothing

    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert set(Signup.objects.filter(event=event).values_list("status", flat=True)) == {SignupStatus.CANCELLED}
    assert LedgerTransaction.objects.filter(kind="event_fee_reversal").count() == 2
    assert accounts.guardian_wallet(world.link.guardian).balance == 2500
    assert accounts.guardian_wallet(second.guardian).balance == 2500
    assert event_fees_account(event).balance == 0
    notices = Notification.objects.filter(kind="event_cancelled")
    assert notices.count() == 3
    assert notices.get(user=world.link.guardian.user).data["refund"] == 2500
    assert notices.get(user=unpaid.guardian.user).data["refund"] == 0
    assert_ledger_consistent()


def test_only_admins_cancel_and_a_cancelled_event_takes_no_signups(world, client_for):
    event = make_event(world.admin)
    assert_problem(client_for(world.teacher.user).post(f"/api/v1/events/{event.pk}/cancel", {}, format="json", **_key()), 403, "permission_denied")
    services.event_cancel(event_id=event.pk, staff=world.admin)
    assert_problem(sign(client_for(world.link.guardian.user), event, world.student.pk), 409, "event_not_open")


def test_paying_by_card_confirms_the_place_when_stripe_confirms_the_payment(world, client_for, django_capture_on_commit_callbacks):
    from wallet.models import TopUp
    from wallet.topups import topup_simulate

    event, client, signup_id = _signed(world, client_for)
    started = client.post(f"/api/v1/signups/{signup_id}/card-payment", **_key())
    assert started.status_code == 201, started.json()
    body = started.json()
    assert body["amount"] == 2500 and body["total"] == body["amount"] + body["card_fee"]
    assert body["client_secret"]
    assert Signup.objects.get(pk=signup_id).status == SignupStatus.AWAITING_PAYMENT  # the client's word moves nothing

    with django_capture_on_commit_callbacks(execute=True):
        topup_simulate(guardian=world.link.guardian, topup_id=body["topup_id"], outcome="succeeded")

    signup = Signup.objects.get(pk=signup_id)
    assert signup.status == SignupStatus.CONFIRMED and signup.payment_method == "card"
    assert TopUp.objects.get(pk=body["topup_id"]).status == TopUp.Status.SUCCEEDED
    assert accounts.guardian_wallet(world.link.guardian).balance == 0
    assert event_fees_account(event).balance == 2500
    assert_ledger_consistent()


def test_a_card_payment_that_clears_too_late_stays_in_the_wallet(world, client_for, django_capture_on_commit_callbacks):
    from wallet.topups import topup_simulate

    event, client, signup_id = _signed(world, client_for)
    topup_id = client.post(f"/api/v1/signups/{signup_id}/card-payment", **_key()).json()["topup_id"]
    services.event_cancel(event_id=event.pk, staff=world.admin)

    with django_capture_on_commit_callbacks(execute=True):
        topup_simulate(guardian=world.link.guardian, topup_id=topup_id, outcome="succeeded")

    assert Signup.objects.get(pk=signup_id).status == SignupStatus.CANCELLED
    assert accounts.guardian_wallet(world.link.guardian).balance == 2500
    assert Notification.objects.filter(user=world.link.guardian.user, title__contains="is in your wallet").count() == 1
    assert_ledger_consistent()


def test_a_link_forged_with_a_secret_key_shows_and_pays_nothing(world, client_for, api_client, settings):
    event, _, signup_id = _signed(world, client_for)
    give_wallet_money(world.link.guardian, 2500)
    payload = {"e": event.pk, "u": world.link.guardian.user_id}
    genuine = event_link_token(event_id=event.pk, user_id=world.link.guardian.user_id)
    assert api_client.get(f"/api/v1/event-links/{genuine}").json()["children"][0]["signup"]["id"] == signup_id
    # Signed as the links are, but with the published development SECRET_KEY or the running one.
    forged = [
        signing.dumps(payload, key=key, salt=links.SALT, compress=False)
        for key in ("insecure-embedded-default-key-change-me-0123456789", settings.SECRET_KEY)
    ]
    entries_before = Entry.objects.count()

    for token in forged:
        shown = assert_problem(api_client.get(f"/api/v1/event-links/{token}"), 403, "event_link_invalid")
        paid = assert_problem(api_client.post(f"/api/v1/event-links/{token}/signups/{signup_id}/pay", **_key()), 403, "event_link_invalid")
        for body in (shown, paid):
            assert set(body) == {"type", "title", "status", "detail", "code"}, body  # the problem, nothing of the family
            assert "Mia" not in str(body) and "2500" not in str(body) and str(signup_id) not in body["detail"]
    assert Entry.objects.count() == entries_before
    assert Signup.objects.get(pk=signup_id).status == SignupStatus.AWAITING_PAYMENT
    assert accounts.guardian_wallet(world.link.guardian).balance == 2500


def test_rotating_the_link_key_keeps_sent_links_working_while_the_old_key_is_a_fallback(world, client_for, api_client, settings):
    event, _, signup_id = _signed(world, client_for)
    sent = event_link_token(event_id=event.pk, user_id=world.link.guardian.user_id)
    old_key = settings.EVENTS_LINK_KEY

    settings.EVENTS_LINK_KEY, settings.EVENTS_LINK_KEY_FALLBACKS = "a-new-link-key-" + uuid.uuid4().hex * 2, [old_key]
    assert api_client.get(f"/api/v1/event-links/{sent}").status_code == 200
    settings.EVENTS_LINK_KEY_FALLBACKS = []
    assert_problem(api_client.get(f"/api/v1/event-links/{sent}"), 403, "event_link_invalid")
