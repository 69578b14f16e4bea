"""What each app publishes, and that it publishes once per thing that happened."""

import pytest
import time_machine

from canteen.cutoff import cutoff_run
from core.models_webhooks import WebhookDelivery
from tests.canteen.conftest import MONDAY_MORNING, WEDNESDAY, make_canteen
from tests.factories import GuardianFactory, GuardianLinkFactory, StudentFactory
from tests.webhooks.conftest import events_of, subscribe
from wallet.models import TopUp
from wallet.webhook_events import topup_succeeded_publish

pytestmark = pytest.mark.django_db
CUTOFF_PASSED = "2026-12-01T21:30:00Z"  # Wednesday 08:30 in Sydney


@pytest.fixture
def canteen(client_for):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        yield make_canteen(client_for)


def test_an_order_is_published_once_and_a_replay_publishes_nothing(canteen, receiver, django_capture_on_commit_callbacks):
    subscribe(receiver.url, ["canteen.order_placed"], school=canteen.school)
    with django_capture_on_commit_callbacks(execute=True):
        placed = canteen.order([(canteen.wrap, 1), (canteen.juice, 2)], key="lunch-1")
        replayed = canteen.order([(canteen.wrap, 1), (canteen.juice, 2)], key="lunch-1")
    assert (placed.status_code, replayed.status_code) == (201, 201), placed.content
    assert replayed["Idempotent-Replayed"] == "true"

    [event] = events_of("canteen.order_placed")
    assert event.school_id == canteen.school.pk
    assert event.data == {
        "order_id": placed.json()["id"],
        "student_id": canteen.student.pk,
        "service_date": "2026-12-02",
        "period_id": placed.json()["period_id"],
        "total": 650 + 2 * 300,
        "currency": "AUD",
        "late": False,
        "lines": [
            {"item_id": canteen.wrap.pk, "quantity": 1, "unit_price": 650},
            {"item_id": canteen.juice.pk, "quantity": 2, "unit_price": 300},
        ],
    }
    assert [received.json["data"] for received in receiver.received] == [event.data]


def test_a_refused_order_publishes_nothing(canteen, receiver, client_for, django_capture_on_commit_callbacks):
    subscribe(receiver.url, ["canteen.order_placed"], school=canteen.school)
    with time_machine.travel(CUTOFF_PASSED, tick=False), django_capture_on_commit_callbacks(execute=True):
        refused = canteen.order([(canteen.wrap, 1)], client=client_for(canteen.link.guardian.user))
    assert refused.status_code == 422 and refused.json()["code"] == "ordering_closed"
    assert events_of("canteen.order_placed") == [] and receiver.received == []


def test_the_cutoff_is_published_once_however_often_it_runs(canteen, receiver, django_capture_on_commit_callbacks):
    subscribe(receiver.url, ["canteen.orders_cut_off"], school=canteen.school)
    canteen.order([(canteen.wrap, 1)])
    with time_machine.travel(CUTOFF_PASSED, tick=False), django_capture_on_commit_callbacks(execute=True):
        run = cutoff_run(school=canteen.school, service_date=WEDNESDAY)
        cutoff_run(school=canteen.school, service_date=WEDNESDAY)

    [event] = events_of("canteen.orders_cut_off")
    assert event.data == {"service_date": "2026-12-02", "period_id": run.period_id, "orders_posted": 1, "cutoff_run_id": run.pk, "finished_at": "2026-12-01T21:30:00Z"}
    assert len(receiver.received) == 1


def test_a_topup_goes_to_each_school_of_the_guardians_children(receiver):
    guardian = GuardianFactory()
    first = GuardianLinkFactory(guardian=guardian).student
    second = GuardianLinkFactory(guardian=guardian).student
    GuardianLinkFactory(guardian=guardian, student=StudentFactory(school=first.school))  # a sibling: still one event
    unrelated = subscribe(receiver.url, ["wallet.topup_succeeded"])
    at_first = subscribe(receiver.url, ["wallet.topup_succeeded"], school=first.school)
    at_second = subscribe(receiver.url, ["wallet.topup_succeeded"], school=second.school)
    topup = TopUp.objects.create(
        guardian=guardian, student=first, amount=2000, fee=30, automatic=True, request_key="auto:1", status=TopUp.Status.SUCCEEDED
    )

    topup_succeeded_publish(topup=topup)

    by_school = {event.school_id: event.data for event in events_of("wallet.topup_succeeded")}
    assert set(by_school) == {first.school_id, second.school_id}
    assert by_school[first.school_id]["student_id"] == first.pk
    assert by_school[second.school_id]["student_id"] is None  # the other school does not learn which child
    assert by_school[second.school_id] | {"student_id": first.pk} == by_school[first.school_id]
    assert {k: by_school[first.school_id][k] for k in ("topup_id", "guardian_id", "amount", "fee", "currency", "automatic")} == {
        "topup_id": topup.pk, "guardian_id": guardian.pk, "amount": 2000, "fee": 30, "currency": "AUD", "automatic": True,
    }
    reached = set(WebhookDelivery.objects.values_list("subscription_id", flat=True))
    assert reached == {at_first.pk, at_second.pk} and unrelated.pk not in reached


def test_a_topup_is_published_once_however_often_stripe_reports_it(settings, receiver, django_capture_on_commit_callbacks):
    from wallet import topups
    from wallet.gateway.fake import deliver_event, payment_intent_object

    settings.PAYMENT_GATEWAY = "fake"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_webhook_tests"
    link = GuardianLinkFactory()
    subscribe(receiver.url, ["wallet.topup_succeeded"], school=link.student.school)
    started = topups.topup_create(guardian=link.guardian, amount=2000, request_key="topup-1")
    with django_capture_on_commit_callbacks(execute=True):
        topups.topup_simulate(guardian=link.guardian, topup_id=started.topup.pk, outcome="succeeded")
    with django_capture_on_commit_callbacks(execute=True):  # the same outcome reported again, as a new Stripe event
        deliver_event(
            "payment_intent.succeeded",
            payment_intent_object(
                intent_id=started.topup.payment_intent_id, amount=2000, metadata={"topup_id": started.topup.pk}, outcome="succeeded"
            ),
        )

    [event] = events_of("wallet.topup_succeeded")
    assert (event.school_id, event.data["topup_id"], event.data["amount"], event.data["automatic"]) == (
        link.student.school_id, started.topup.pk, 2000, False,
    )
    assert [received.json["id"] for received in receiver.received] == [str(event.pk)]
