"""The sign-up's locked part (events/sql/signup_place.pg.sql): what was checked before the lock is
checked again under it, and a newcomer never takes a place owed to the waitlist."""

from datetime import timedelta

import pytest
import time_machine

from events.chain import consent_chain_verify
from events.models import ConsentRecord, Event, Signup, SignupStatus
from events.services import signups
from tests.events.conftest import family, make_event, sign
from tests.events.test_payments import withdraw
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db


def test_an_edit_between_the_checks_and_the_lock_is_judged_again(world, client_for, monkeypatch):
    """The event was read eligible, then staff narrowed it to Year 5 before the lock: the sign-up is
    checked again on the edited event and refused, with nothing written."""
    event = make_event(world.admin, cost=0)
    read_event = signups._open_event

    def read_then_edited(event_id, *, school_id):
        seen = read_event(event_id, school_id=school_id)
        Event.objects.filter(pk=event_id).update(eligible_year_levels=[5])
        return seen

    monkeypatch.setattr(signups, "_open_event", read_then_edited)

    assert_problem(sign(client_for(world.link.guardian.user), event, world.student.pk), 422, "student_not_eligible")
    assert not Signup.objects.exists() and not ConsentRecord.objects.exists()


def test_a_link_revoked_between_the_checks_and_the_lock_is_judged_again(world, client_for, monkeypatch):
    event = make_event(world.admin, cost=0)
    judge_link = signups._consenting

    def judged_then_revoked(link):
        judged = judge_link(link)
        type(link).objects.filter(pk=link.pk).update(can_give_consent=False)
        return judged

    monkeypatch.setattr(signups, "_consenting", judged_then_revoked)

    assert_problem(sign(client_for(world.link.guardian.user), event, world.student.pk), 403, "permission_missing")
    assert not Signup.objects.exists() and not ConsentRecord.objects.exists()


def test_a_place_freed_without_an_offer_goes_to_the_waitlist_before_a_newcomer(world, client_for):
    """Capacity raised behind the services' back: the waiting child is confirmed first, the newcomer waits."""
    event = make_event(world.admin, cost=0, capacity=1)
    assert sign(client_for(world.link.guardian.user), event, world.student.pk).json()["status"] == "confirmed"
    second, third = family(world.school), family(world.school)
    waiting = sign(client_for(second.guardian.user), event, second.student_id).json()["id"]
    Event.objects.filter(pk=event.pk).update(capacity=2)

    response = sign(client_for(third.guardian.user), event, third.student_id)

    assert response.status_code == 201 and response.json()["status"] == "waitlisted"
    assert Signup.objects.get(pk=waiting).status == SignupStatus.CONFIRMED


def test_an_offer_past_its_deadline_lapses_before_a_newcomer_is_placed(world, client_for):
    event = make_event(world.admin, capacity=1, offer_window_hours=24)
    first = sign(client_for(world.link.guardian.user), event, world.student.pk).json()["id"]
    second, third = family(world.school), family(world.school)
    offered = sign(client_for(second.guardian.user), event, second.student_id).json()["id"]
    assert withdraw(client_for(world.link.guardian.user), first).status_code == 200
    assert Signup.objects.get(pk=offered).status == SignupStatus.OFFERED

    with time_machine.travel(Signup.objects.get(pk=offered).payment_due_at + timedelta(seconds=1)):
        response = sign(client_for(third.guardian.user), event, third.student_id)

    assert response.status_code == 201 and response.json()["status"] == "awaiting_payment"
    assert Signup.objects.get(pk=offered).status == SignupStatus.LAPSED
    assert consent_chain_verify(school=world.school).valid
