"""Signing up: a drawn signature rendered to PNG, consent evidence on the event's hash chain, places and waitlist,
and every bad input refused with its code and nothing written."""

from datetime import timedelta

import pytest
import time_machine

from events.chain import consent_chain_verify
from events.models import GENESIS_HASH, ConsentDocument, ConsentRecord, Signup
from tests.events.conftest import FORM, SIGNATURE, family, make_event, sign
from tests.factories import GuardianLinkFactory, StudentFactory
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db


def _nothing_written():
    assert Signup.objects.count() == 0
    assert ConsentRecord.objects.count() == 0


def test_signing_stores_the_strokes_and_the_evidence_and_renders_nothing(world, client_for):
    event = make_event(world.admin)

    response = sign(client_for(world.link.guardian.user), event, world.student.pk)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "awaiting_payment"
    assert body["amount_due"] == 2500 and body["amount_paid"] == 0
    assert body["payment_due_at"] == event.signup_deadline.isoformat().replace("+00:00", "Z")
    record = ConsentRecord.objects.get()
    assert body["consent_id"] == record.pk
    assert record.signature_strokes == SIGNATURE
    # The PNG and the PDF are rendered after the answer (events/documents.py), not in the record.
    assert (bytes(record.signature_png), record.signature_png_sha256) == (b"", "")
    assert not ConsentDocument.objects.exists()
    assert record.guardian == world.link.guardian and record.link == world.link and record.student == world.student
    assert record.form_version == event.consent_form and record.form_hash == event.consent_form.content_hash
    assert record.answers == {"allergies": "Peanuts (EpiPen in bag)", "photo_ok": True, "lunch": "packed"}
    assert record.typed_name == "Olivia Nguyen"
    assert record.statement == FORM["statement"]
    assert record.ip_address == "127.0.0.1" and record.user_agent == "pytest-browser/1.0"
    assert (record.sequence, record.previous_hash) == (1, GENESIS_HASH)


def test_records_are_chained_per_event(world, client_for):
    event = make_event(world.admin)
    second = family(world.school)
    sign(client_for(world.link.guardian.user), event, world.student.pk)
    sign(client_for(second.guardian.user), event, second.student_id)

    first, following = ConsentRecord.objects.order_by("sequence")
    assert following.sequence == 2
    assert following.previous_hash == first.record_hash
    report = consent_chain_verify(school=world.school)
    assert report.valid and report.records == 2 and report.head_hash == following.record_hash


def test_each_event_of_a_school_has_its_own_chain_and_all_are_verified(world, client_for):
    swimming, museum = make_event(world.admin, title="Swimming"), make_event(world.admin, title="Museum")
    second = family(world.school)
    sign(client_for(world.link.guardian.user), swimming, world.student.pk)
    sign(client_for(second.guardian.user), museum, second.student_id)
    sign(client_for(second.guardian.user), swimming, second.student_id)

    chains = {
        event.pk: list(ConsentRecord.objects.filter(event=event).order_by("sequence").values_list("sequence", "previous_hash", "record_hash"))
        for event in (swimming, museum)
    }
    (one, one_prev, one_hash), (two, two_prev, two_hash) = chains[swimming.pk]
    [(alone, alone_prev, alone_hash)] = chains[museum.pk]
    # Both chains start at the genesis: a sign-up to one event never waits on the other's lock.
    assert (one, one_prev, two, two_prev) == (1, GENESIS_HASH, 2, one_hash)
    assert (alone, alone_prev) == (1, GENESIS_HASH)
    report = consent_chain_verify(school=world.school)
    assert report.valid and report.records == 3 and report.head_hash == two_hash

    # A record changed behind the application's back is found in its own event's chain.
    from tests.events.test_consent_evidence import _tamper

    museum_record = ConsentRecord.objects.get(event=museum)
    _tamper("UPDATE events_consentrecord SET typed_name = %s WHERE id = %s", ["Somebody Else", museum_record.pk])
    problems = consent_chain_verify(school=world.school).problems
    assert problems == [{"sequence": 1, "record_id": museum_record.pk, "code": "record_changed", "detail": "the record's content does not match its hash"}]


def test_a_free_event_confirms_at_once_and_a_full_one_waitlists(world, client_for):
    event = make_event(world.admin, cost=0, capacity=1)
    second = family(world.school)

    first = sign(client_for(world.link.guardian.user), event, world.student.pk)
    waiting = sign(client_for(second.guardian.user), event, second.student_id)

    assert first.json()["status"] == "confirmed"
    assert waiting.status_code == 201
    assert waiting.json()["status"] == "waitlisted"
    assert ConsentRecord.objects.count() == 2  # the waitlisted family has consented too


def test_a_full_capped_waitlist_is_refused(world, client_for):
    event = make_event(world.admin, capacity=1, waitlist_capacity=1)
    sign(client_for(world.link.guardian.user), event, world.student.pk)
    second, third = family(world.school), family(world.school)
    assert sign(client_for(second.guardian.user), event, second.student_id).json()["status"] == "waitlisted"

    response = sign(client_for(third.guardian.user), event, third.student_id)

    assert_problem(response, 409, "waitlist_full")
    assert not Signup.objects.filter(student=third.student).exists()
    assert ConsentRecord.objects.count() == 2


@pytest.mark.parametrize(
    ("signature", "code"),
    [
        ({"width": 600, "height": 200, "strokes": []}, "signature_empty"),
        ({"width": 600, "height": 200, "strokes": [[[10, 10]]]}, "signature_empty"),
        ({"width": 600, "height": 200, "strokes": [[[10, 10], [11, 11]]]}, "signature_empty"),
        ({"width": 600, "height": 200, "strokes": [[[i % 600, i % 200] for i in range(5001)]]}, "signature_too_large"),
        ({"width": 600, "height": 200, "strokes": [[[1, 1], [2, 2]]] * 61}, "signature_too_large"),
        ({"width": 20000, "height": 200, "strokes": [[[1, 1], [200, 100]]]}, "signature_too_large"),
        ({"width": 600, "height": 200, "strokes": [[[1, 1], [900, 100]]]}, "signature_invalid"),
    ],
)
def test_an_empty_or_oversized_signature_is_refused(world, client_for, signature, code):
    event = make_event(world.admin)
    response = sign(client_for(world.link.guardian.user), event, world.student.pk, signature=signature)
    assert_problem(response, 422, code)
    _nothing_written()


def test_a_malformed_signature_is_a_validation_error(world, client_for):
    event = make_event(world.admin)
    response = sign(client_for(world.link.guardian.user), event, world.student.pk, signature={"width": 600, "height": 200, "strokes": [[["a", 1]]]})
    assert_problem(response, 400, "validation_error")
    _nothing_written()


def test_a_guardian_without_consent_permission_cannot_sign(world, client_for):
    money_only = GuardianLinkFactory(student=world.student, can_give_consent=False)
    response = sign(client_for(money_only.guardian.user), make_event(world.admin), world.student.pk)
    assert_problem(response, 403, "permission_missing")
    _nothing_written()


def test_another_familys_child_or_another_schools_event_is_not_found(world, client_for):
    stranger = GuardianLinkFactory()
    event = make_event(world.admin)
    assert_problem(sign(client_for(stranger.guardian.user), event, world.student.pk), 404, "not_found")
    assert_problem(sign(client_for(stranger.guardian.user), event, stranger.student_id), 404, "event_not_found")
    _nothing_written()


def test_after_the_deadline_signing_is_refused(world, client_for):
    event = make_event(world.admin)
    with time_machine.travel(event.signup_deadline + timedelta(seconds=1)):
        response = sign(client_for(world.link.guardian.user), event, world.student.pk)
    assert_problem(response, 422, "signup_deadline_passed")
    _nothing_written()


def test_a_stale_form_version_is_refused(world, client_for):
    event = make_event(world.admin)
    stale_hash = event.consent_form.content_hash
    client_for(world.admin.user).patch(f"/api/v1/events/{event.pk}", {"consent_form": {**FORM, "statement": "I consent, and I have read the new packing list."}}, format="json")

    response = sign(client_for(world.link.guardian.user), event, world.student.pk, form_hash=stale_hash)

    body = assert_problem(response, 409, "form_version_stale")
    event.refresh_from_db()
    assert body["details"] == {"current_form_hash": event.consent_form.content_hash}
    _nothing_written()


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"consent_statement_accepted": False}, 422, "consent_statement_required"),
        ({"typed_name": " "}, 400, "validation_error"),
        ({"typed_name": "O"}, 422, "typed_name_invalid"),
        ({"answers": {"allergies": "none"}}, 422, "answers_invalid"),
        ({"answers": {"photo_ok": "maybe"}}, 422, "answers_invalid"),
        ({"answers": {"photo_ok": True, "lunch": "pizza"}}, 422, "answers_invalid"),
        ({"answers": {"photo_ok": True, "shoe_size": "4"}}, 422, "answers_invalid"),
    ],
)
def test_missing_intent_or_bad_answers_are_refused(world, client_for, overrides, status, code):
    response = sign(client_for(world.link.guardian.user), make_event(world.admin), world.student.pk, **overrides)
    assert_problem(response, status, code)
    _nothing_written()


def test_an_ineligible_child_and_a_second_signup_are_refused(world, client_for):
    event = make_event(world.admin)
    older = GuardianLinkFactory(guardian=world.link.guardian, student=StudentFactory(school=world.school, year_level=6))
    client = client_for(world.link.guardian.user)
    assert_problem(sign(client, event, older.student_id), 422, "student_not_eligible")
    assert sign(client, event, world.student.pk).status_code == 201
    assert_problem(sign(client, event, world.student.pk), 409, "already_signed_up")
    assert Signup.objects.count() == 1 and ConsentRecord.objects.count() == 1


def test_declining_stops_reminders_and_can_be_followed_by_signing(world, client_for):
    event = make_event(world.admin)
    client = client_for(world.link.guardian.user)
    declined = client.post(f"/api/v1/events/{event.pk}/declines", {"student_id": world.student.pk}, format="json")
    assert declined.status_code == 201 and declined.json()["status"] == "declined"
    assert sign(client, event, world.student.pk).json()["status"] == "awaiting_payment"


def test_the_consent_can_be_read_by_the_family_and_medical_staff_only(world, client_for):
    event = make_event(world.admin)
    consent_id = sign(client_for(world.link.guardian.user), event, world.student.pk).json()["consent_id"]

    mine = client_for(world.link.guardian.user).get(f"/api/v1/consents/{consent_id}")
    assert mine.status_code == 200
    assert mine.json()["answers"][0] == {"key": "allergies", "label": "Allergies or medical conditions", "type": "medical", "answer": "Peanuts (EpiPen in bag)", "withheld": False}
    assert client_for(world.teacher.user).get(f"/api/v1/consents/{consent_id}").status_code == 200
    assert client_for(world.canteen.user).get(f"/api/v1/consents/{consent_id}").status_code == 403  # outside EVENTS_MEDICAL_ROLES: turned away at the door
    assert client_for(GuardianLinkFactory().guardian.user).get(f"/api/v1/consents/{consent_id}").status_code == 404
    png = client_for(world.link.guardian.user).get(f"/api/v1/consents/{consent_id}/signature.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png" and png.content.startswith(b"\x89PNG")


def test_the_same_strokes_render_the_same_png():
    from events.signature import signature_render, signature_validate

    first, again = signature_render(signature_validate(SIGNATURE)), signature_render(signature_validate(SIGNATURE))
    assert first == again and first.startswith(b"\x89PNG")


def test_more_places_go_to_the_waitlist_at_once(world, client_for):
    event = make_event(world.admin, cost=0, capacity=1)
    sign(client_for(world.link.guardian.user), event, world.student.pk)
    second = family(world.school)
    waiting = sign(client_for(second.guardian.user), event, second.student_id).json()["id"]
    client = client_for(world.admin.user)

    assert_problem(client.patch(f"/api/v1/events/{event.pk}", {"capacity": 0}, format="json"), 400, "validation_error")
    response = client.patch(f"/api/v1/events/{event.pk}", {"capacity": 2}, format="json")

    assert response.json()["places"] == {"capacity": 2, "taken": 2, "left": 0, "waitlisted": 0}
    assert Signup.objects.get(pk=waiting).status == "confirmed"
    assert_problem(client.patch(f"/api/v1/events/{event.pk}", {"capacity": 1}, format="json"), 409, "capacity_below_taken")
