"""Who may be issued a program's vouchers. Every refusal raises an error with its own code."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from core import roles
from guardians.models import School, Student, User
from vouchers import periods
from vouchers.errors import MeansTestNotMet, NotEligibleAge, NotEnrolled, NotResident, WrongBeneficiaryKind
from vouchers.models import AdultBeneficiary, Attestation, AttestationKind, BeneficiaryKind, Program


@dataclass(frozen=True)
class Beneficiary:
    """The person a voucher is for: a student, or an adult user."""

    kind: str
    student: Student | None
    user: User | None
    date_of_birth: date
    postcode: str
    school: School | None

    @property
    def key(self) -> str:
        return f"student:{self.student.pk}" if self.student else f"user:{self.user.pk}"

    def voucher_zone(self, program: Program) -> str:
        """A child's vouchers keep the school's local time; an adult's, the program's."""
        return self.school.time_zone if self.school else program.time_zone


def child(student: Student, *, postcode: str = "") -> Beneficiary:
    return Beneficiary(
        kind=BeneficiaryKind.CHILD,
        student=student,
        user=None,
        date_of_birth=student.date_of_birth,
        postcode=postcode or student.school.postcode,
        school=student.school,
    )


def adult(profile: AdultBeneficiary) -> Beneficiary:
    user = profile.user
    guardian = roles.role_of(user, "guardian")
    return Beneficiary(
        kind=BeneficiaryKind.ADULT,
        student=None,
        user=user,
        date_of_birth=profile.date_of_birth,
        postcode=profile.postcode or (guardian.postcode if guardian else ""),
        school=None,
    )


def attested(*, kind: str, beneficiary: Beneficiary, today: date, also_user: User | None = None) -> bool:
    """A current, unrevoked attestation of `kind` for the beneficiary (or, for a family fact, the applicant)."""
    whose = Q(student=beneficiary.student) if beneficiary.student else Q(user=beneficiary.user)
    if also_user is not None:
        whose |= Q(user=also_user)
    return (
        Attestation.objects.filter(whose, kind=kind, revoked_at__isnull=True, valid_from__lte=today)
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .exists()
    )


def check(
    *, program: Program, beneficiary: Beneficiary, today: date, applicant: User | None, residency_declared: bool
) -> None:
    """Raise the first rule the beneficiary fails, in the order a caseworker would check them."""
    if beneficiary.kind != program.beneficiary_kind:
        raise WrongBeneficiaryKind(f"{program.name} is for {program.get_beneficiary_kind_display().lower()}.")

    age = periods.age_in_months(beneficiary.date_of_birth, periods.age_reference(program, today))
    too_young = program.min_age_months is not None and age < program.min_age_months
    too_old = program.max_age_months is not None and age > program.max_age_months
    if too_young or too_old:
        raise NotEligibleAge(age_months=age, min_age_months=program.min_age_months, max_age_months=program.max_age_months)

    if program.requires_enrolment and beneficiary.kind == BeneficiaryKind.CHILD:
        eligible_school_ids = set(program.eligible_schools.values_list("pk", flat=True))
        on_a_roll = not eligible_school_ids or beneficiary.school.pk in eligible_school_ids
        if not on_a_roll and not attested(kind=AttestationKind.SCHOOL_ENROLMENT, beneficiary=beneficiary, today=today):
            raise NotEnrolled()

    if program.requires_residency:
        declared = residency_declared and program.residency_self_declared
        if not declared and not attested(kind=AttestationKind.RESIDENCY, beneficiary=beneficiary, today=today):
            raise NotResident(self_declaration_allowed=program.residency_self_declared)

    if program.requires_means_test:
        family = applicant if beneficiary.kind == BeneficiaryKind.CHILD else None
        if not attested(kind=AttestationKind.MEANS_TEST, beneficiary=beneficiary, today=today, also_user=family):
            raise MeansTestNotMet()
