"""Applying for vouchers: eligibility refusals by code, issue windows, periods, expiry, adults."""

from datetime import date

import pytest

from tests.factories import GuardianLinkFactory, SchoolFactory, StudentFactory, UserFactory
from tests.helpers import assert_problem
from tests.vouchers.conftest import post, sydney
from tests.vouchers.factories import AttestationKind, attest, make_program, window
from vouchers import numbers
from vouchers.models import Attestation, AttestationSource, Voucher, VoucherState
from wallet.models import LedgerTransaction

pytestmark = pytest.mark.django_db


def apply(world, program=None, student=None, client=None, **body):
    program = program or world.program
    body.setdefault("student_id", (student or world.student).pk)
    # A fresh sign-in each time: tests move the clock past the 15-minute access tokens.
    client = client or world.client_for(world.link.guardian.user)
    return post(client, f"/api/v1/voucher-programs/{program.pk}/applications", body)


def test_a_guardian_applies_for_a_linked_child_and_holds_the_voucher(world):
    response = apply(world)

    assert response.status_code == 201, response.content
    [issued] = response.json()
    voucher = Voucher.objects.get(pk=issued["id"])
    assert issued["number"] == numbers.formatted(voucher.number)
    assert numbers.normalise(issued["number"]) == voucher.number
    assert issued | {"id": None, "number": None} == {
        "id": None,
        "number": None,
        "program": {"id": world.program.pk, "name": "Active Kids", "code": world.program.code},
        "issue_window": "Calendar year",
        "beneficiary": {"kind": "child", "student_id": world.student.pk, "first_name": "Mia"},
        "face_value": 10000,
        "remaining_value": 10000,
        "forfeited_value": 0,
        "state": "issued",
        "categories": ["sport"],
        "use_rule": "partial",
        "issued_on": "2026-03-02",
        "expires_on": "2026-12-31",
        "time_zone": "Australia/Sydney",
    }
    assert voucher.holder == world.link.guardian.user
    assert voucher.student == world.student
    assert (voucher.school, voucher.postcode) == (world.school, "2010")
    # The voucher is usable to the end of 31 December in Sydney.
    assert voucher.expires_at == sydney(2027, 1, 1, 0, 0)
    # Issuing reserves the voucher's value: one transaction from the program's funding to the voucher's own reserve.
    [reserved] = LedgerTransaction.objects.all()
    assert reserved.kind == "voucher_reserve"
    assert sorted(reserved.entries.values_list("account_id", "amount")) == sorted(
        [(voucher.program.funding_account_id, -10000), (voucher.reserve_account_id, 10000)]
    )


def test_applying_again_in_the_same_period_is_409_and_issues_nothing(world):
    assert apply(world).status_code == 201

    assert_problem(apply(world), 409, "already_issued_this_period")
    assert Voucher.objects.count() == 1


def test_a_new_year_is_a_new_period(world, clock_at):
    assert apply(world).status_code == 201
    clock_at(sydney(2027, 1, 4, 9, 0))
    world.sign_in_again()

    response = apply(world)

    assert response.status_code == 201
    assert response.json()[0]["expires_on"] == "2027-12-31"


def test_two_vouchers_per_period(world):
    program = make_program(admin=world.admin, vouchers_per_period=2)

    response = apply(world, program)

    assert response.status_code == 201
    assert len(response.json()) == 2
    assert len({row["number"] for row in response.json()}) == 2


@pytest.mark.parametrize(
    ("date_of_birth", "allowed"),
    [
        (date(2021, 9, 2), True),  # exactly 4 years 6 months (54 months) on 2 March 2026
        (date(2021, 9, 3), False),  # a day short
        (date(2007, 4, 2), True),  # 18 years 11 months: still 18
        (date(2007, 3, 2), False),  # 19 today
    ],
)
def test_age_range_is_measured_in_whole_months(world, date_of_birth, allowed):
    world.student.date_of_birth = date_of_birth
    world.student.save()

    response = apply(world)

    if allowed:
        assert response.status_code == 201
    else:
        body = assert_problem(response, 422, "not_eligible_age")
        assert set(body["details"]) == {"age_months", "min_age_months", "max_age_months"}
        assert not Voucher.objects.exists()


def test_age_at_a_reference_date(world):
    # Age measured on 1 January: a child who turns 4 1/2 in March is not yet eligible.
    program = make_program(admin=world.admin, age_reference_month=1, age_reference_day=1)
    world.student.date_of_birth = date(2021, 8, 1)
    world.student.save()

    assert_problem(apply(world, program), 422, "not_eligible_age")
    assert apply(world).status_code == 201  # the default program measures on the day of application


def test_enrolment_at_a_participating_school_or_attested(world):
    elsewhere = SchoolFactory()
    program = make_program(admin=world.admin, requires_enrolment=True)
    program.eligible_schools.set([elsewhere])

    assert_problem(apply(world, program), 422, "not_enrolled")
    attest(AttestationKind.SCHOOL_ENROLMENT, student=world.student)
    assert apply(world, program).status_code == 201


def test_residency_declared_by_the_guardian_is_recorded_with_who_declared_it(world):
    program = make_program(admin=world.admin, requires_residency=True)

    assert_problem(apply(world, program), 422, "not_resident")
    assert apply(world, program, declare_residency=True).status_code == 201

    declared = Attestation.objects.get()
    assert (declared.kind, declared.source, declared.attested_by, declared.student) == (
        AttestationKind.RESIDENCY,
        AttestationSource.SELF_DECLARED,
        world.link.guardian.user,
        world.student,
    )


def test_residency_that_must_be_attested_by_an_administrator(world):
    program = make_program(admin=world.admin, requires_residency=True, residency_self_declared=False)

    body = assert_problem(apply(world, program, declare_residency=True), 422, "not_resident")
    assert body["details"] == {"self_declaration_allowed": False}
    assert not Attestation.objects.exists()

    attest(AttestationKind.RESIDENCY, student=world.student)
    assert apply(world, program).status_code == 201


def test_means_test_needs_a_current_attestation_for_the_family(world):
    program = make_program(admin=world.admin, requires_means_test=True)

    assert_problem(apply(world, program), 422, "means_test_not_met")
    attest(AttestationKind.MEANS_TEST, user=world.link.guardian.user, valid_until=date(2026, 3, 1))  # lapsed yesterday
    assert_problem(apply(world, program), 422, "means_test_not_met")
    attest(AttestationKind.MEANS_TEST, user=world.link.guardian.user, valid_until=date(2026, 12, 31))
    assert apply(world, program).status_code == 201


def test_an_administrator_records_an_attestation_with_who_attested(world):
    response = post(
        world.admin_client,
        "/api/v1/voucher-attestations",
        {"kind": "means_test", "user_id": world.link.guardian.user.pk, "evidence": "FTB A letter", "valid_until": "2026-12-31"},
    )

    assert response.status_code == 201, response.content
    assert response.json() | {"id": None, "created_at": None} == {
        "id": None,
        "kind": "means_test",
        "student_id": None,
        "user_id": world.link.guardian.user.pk,
        "source": "administrator",
        "attested_by_id": world.admin.user.pk,
        "evidence": "FTB A letter",
        "valid_from": "2026-03-02",
        "valid_until": "2026-12-31",
        "created_at": None,
    }


def test_closed_and_not_yet_open_programs(world):
    closed = make_program(admin=world.admin, starts_on=date(2025, 1, 1), ends_on=date(2026, 2, 28))
    future = make_program(admin=world.admin, starts_on=date(2026, 7, 1))

    assert_problem(apply(world, closed), 422, "program_closed")
    assert_problem(apply(world, future), 422, "program_closed")


def test_a_childrens_program_refuses_an_adult_and_vice_versa(world, client_for):
    adult_program = make_program(admin=world.admin, beneficiary_kind="adult", min_age_months=216, max_age_months=None)

    assert_problem(apply(world, adult_program), 422, "wrong_beneficiary_kind")
    assert_problem(post(world.guardian_client, f"/api/v1/voucher-programs/{world.program.pk}/applications", {"date_of_birth": "1980-01-01"}), 422, "wrong_beneficiary_kind")


def test_a_child_not_linked_to_me_is_404(world):
    stranger = StudentFactory()
    assert_problem(apply(world, student=stranger), 404, "not_found")
    assert not Voucher.objects.exists()


def test_a_link_without_money_permission_cannot_apply(world, client_for):
    link = GuardianLinkFactory(student=world.student, can_manage_money=False)

    assert_problem(apply(world, client=client_for(link.guardian.user)), 403, "permission_missing")


# --- Issue windows ---------------------------------------------------------------------


def two_voucher_program(world):
    """The 2024-style program: voucher 1 from 1 February (expires 31 December), voucher 2 from 15 July (12 months)."""
    return make_program(
        admin=world.admin,
        face_value=5000,
        categories=["sport", "creative"],
        windows=[
            window("Voucher 1", opens_month=2, opens_day=1, expiry_rule="end_of_year"),
            window("Voucher 2", opens_month=7, opens_day=15, expiry_rule="months_after_issue", expiry_period=12),
        ],
    )


def test_issue_windows_open_in_turn(world, clock_at):
    program = two_voucher_program(world)

    clock_at(sydney(2026, 1, 20, 9, 0))
    assert_problem(apply(world, program), 422, "no_open_issue_window")

    clock_at(sydney(2026, 3, 2, 9, 0))
    [first] = apply(world, program).json()
    assert (first["issue_window"], first["expires_on"]) == ("Voucher 1", "2026-12-31")
    assert_problem(apply(world, program), 409, "already_issued_this_period")

    clock_at(sydney(2026, 7, 14, 23, 59))  # the day before voucher 2's window, Sydney time
    assert_problem(apply(world, program), 409, "already_issued_this_period")

    clock_at(sydney(2026, 7, 15, 0, 0))
    [second] = apply(world, program).json()
    assert (second["issue_window"], second["expires_on"]) == ("Voucher 2", "2027-07-14")


def test_applying_late_in_the_year_issues_both_windows_at_once(world, clock_at):
    program = two_voucher_program(world)
    clock_at(sydney(2026, 8, 3, 9, 0))

    issued = apply(world, program).json()

    assert [(row["issue_window"], row["expires_on"]) for row in issued] == [("Voucher 1", "2026-12-31"), ("Voucher 2", "2027-08-02")]


def test_a_cancelled_voucher_frees_the_period(world):
    [issued] = apply(world).json()

    response = post(world.admin_client, f"/api/v1/voucher-programs/{world.program.pk}/vouchers/{issued['id']}/cancel", {"reason": "Wrong child"})

    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    assert apply(world).status_code == 201


# --- Adults ---------------------------------------------------------------------------


def test_an_adult_applies_for_themselves(world, client_for):
    program = make_program(
        admin=world.admin,
        name="Dine & Discover",
        beneficiary_kind="adult",
        face_value=2500,
        min_age_months=216,
        max_age_months=None,
        categories=["dining", "entertainment"],
        windows=[window("Dine", voucher_count=2, categories=["dining"]), window("Discover", voucher_count=2, categories=["entertainment"])],
    )
    adult = UserFactory(first_name="Olivia")
    client = client_for(adult)
    url = f"/api/v1/voucher-programs/{program.pk}/applications"

    assert_problem(post(client, url, {}), 422, "date_of_birth_required")
    response = post(client, url, {"date_of_birth": "1984-06-02", "postcode": "2000"})

    assert response.status_code == 201, response.content
    assert [(row["issue_window"], row["categories"], row["beneficiary"]["kind"]) for row in response.json()] == [
        ("Dine", ["dining"], "adult"),
        ("Dine", ["dining"], "adult"),
        ("Discover", ["entertainment"], "adult"),
        ("Discover", ["entertainment"], "adult"),
    ]
    assert {row["beneficiary"]["first_name"] for row in response.json()} == {"Olivia"}
    assert set(Voucher.objects.values_list("holder", flat=True)) == {adult.pk}
    assert set(Voucher.objects.values_list("postcode", flat=True)) == {"2000"}
    assert_problem(post(client, url, {"date_of_birth": "1984-06-02"}), 409, "already_issued_this_period")


def test_an_adult_under_18_is_not_eligible(world, client_for):
    program = make_program(admin=world.admin, beneficiary_kind="adult", min_age_months=216, max_age_months=None)

    response = post(client_for(UserFactory()), f"/api/v1/voucher-programs/{program.pk}/applications", {"date_of_birth": "2008-03-03"})

    assert_problem(response, 422, "not_eligible_age")


def test_states_are_derived_at_read_time(world, clock_at):
    [issued] = apply(world).json()
    voucher = Voucher.objects.get(pk=issued["id"])

    clock_at(sydney(2027, 1, 1, 0, 0))
    world.sign_in_again()

    assert world.guardian_client.get(f"/api/v1/vouchers/{voucher.pk}").json()["state"] == "expired"
    voucher.refresh_from_db()
    assert voucher.state == VoucherState.ISSUED  # nothing flipped a flag
