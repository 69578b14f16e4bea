"""Applying for and issuing vouchers: one beneficiary at a time, or from an administrator's CSV.

The program's calendar (is it open, which issue windows) is read in the program's
time zone on the day of the request; eligibility is checked at the same moment.
"Already issued this period" is decided by a unique constraint over (program,
beneficiary, window, year, sequence), so two applications racing for one child
issue one set of vouchers.
"""

import csv
import io
import secrets
from datetime import date

import structlog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.dateparse import parse_date

from core import clock
from core.errors import DomainError
from core.jobs import enqueue_after_commit
from core.locks import lock_one
from core.money import format_dollars
from core.notifications import notify
from guardians.models import GuardianLink, Student, User
from vouchers import eligibility, numbers, periods, reserves
from vouchers.eligibility import Beneficiary
from vouchers.errors import (
    AlreadyIssuedThisPeriod,
    BulkCsvInvalid,
    DateOfBirthMismatch,
    DateOfBirthRequired,
    NoGuardian,
    NoOpenIssueWindow,
    ProgramClosed,
    UnknownStudent,
    UnknownUser,
)
from vouchers.models import (
    AdultBeneficiary,
    Attestation,
    AttestationKind,
    AttestationSource,
    BeneficiaryKind,
    BulkIssueJob,
    IssueSource,
    Program,
    Voucher,
    VoucherState,
)

log = structlog.get_logger("vouchers.issuing")

CHILD_COLUMNS = ("school_code", "student_number")
ADULT_COLUMNS = ("email", "date_of_birth")
MAX_RECORDED_ERRORS = 1000


def voucher_apply(
    *, program: Program, applicant: User, beneficiary: Beneficiary, residency_declared: bool = False
) -> list[Voucher]:
    """Issue a beneficiary this period's vouchers of every open window they do not have yet.

    The applicant becomes the holder. Raises the eligibility error with its code, or
    AlreadyIssuedThisPeriod; writes nothing when it refuses.
    """
    try:
        with transaction.atomic(durable=True):
            return _issue_locked(
                program=program,
                beneficiary=beneficiary,
                holder=applicant,
                issued_by=applicant,
                source=IssueSource.APPLICATION,
                residency_declared=residency_declared,
            )
    except IntegrityError:
        raise AlreadyIssuedThisPeriod() from None


def adult_beneficiary_for(*, user: User, date_of_birth: date | None, postcode: str = "") -> AdultBeneficiary:
    """The adult's profile, created on first application. A date of birth, once given, is not changed here."""
    profile = AdultBeneficiary.objects.filter(user=user).select_related("user__guardian").first()
    if profile is not None:
        if date_of_birth is not None and date_of_birth != profile.date_of_birth:
            raise DateOfBirthMismatch("This is not the date of birth given before; ask the program to correct it.")
        return profile
    if date_of_birth is None:
        raise DateOfBirthRequired("Give your date of birth with your first application.")
    try:
        with transaction.atomic():
            return AdultBeneficiary.objects.create(user=user, date_of_birth=date_of_birth, postcode=postcode)
    except IntegrityError:  # created by a concurrent application
        return AdultBeneficiary.objects.select_related("user__guardian").get(user=user)


def _issue_locked(
    *,
    program: Program,
    beneficiary: Beneficiary,
    holder: User,
    issued_by: User,
    source: str,
    residency_declared: bool,
    bulk_job: BulkIssueJob | None = None,
) -> list[Voucher]:
    today = clock.local_today(program.time_zone)
    if not periods.program_takes_applications(program, today):
        raise ProgramClosed()
    windows = [window for window in program.issue_windows.all() if periods.window_is_open(window, today)]
    if not windows:
        raise NoOpenIssueWindow()
    eligibility.check(
        program=program, beneficiary=beneficiary, today=today, applicant=holder, residency_declared=residency_declared
    )

    taken = set(
        Voucher.objects.filter(
            program=program, beneficiary_key=beneficiary.key, period_year=today.year, issue_window__in=windows
        )
        .exclude(state=VoucherState.CANCELLED)
        .values_list("issue_window_id", "sequence")
    )
    zone = beneficiary.voucher_zone(program)
    now = clock.now()
    vouchers = []
    for window in windows:
        expires_on = periods.expiry_date(program=program, window=window, issued_on=today)
        if expires_on < today:
            raise ProgramClosed("This window's vouchers would already have expired.")
        for sequence in range(1, window.voucher_count + 1):
            if (window.pk, sequence) in taken:
                continue
            vouchers.append(
                Voucher(
                    program=program,
                    issue_window=window,
                    period_year=today.year,
                    sequence=sequence,
                    number=numbers.generate(),
                    totp_secret=secrets.token_hex(20),
                    holder=holder,
                    student=beneficiary.student,
                    beneficiary_user=beneficiary.user,
                    beneficiary_key=beneficiary.key,
                    school=beneficiary.school,
                    postcode=beneficiary.postcode[:4],
                    face_value=program.face_value,
                    remaining_value=program.face_value,
                    time_zone=zone,
                    issued_on=today,
                    issued_at=now,
                    expires_on=expires_on,
                    expires_at=periods.end_of_local_day(expires_on, zone),
                    issue_source=source,
                    issued_by=issued_by,
                    bulk_job=bulk_job,
                )
            )
    if not vouchers:
        raise AlreadyIssuedThisPeriod(period_year=today.year)
    reserves.reserves_open(vouchers)
    Voucher.objects.bulk_create(vouchers)
    reserves.reserves_fund(program=program, vouchers=vouchers, actor=f"user:{issued_by.pk}")
    if residency_declared and program.requires_residency and program.residency_self_declared:
        if not eligibility.attested(kind=AttestationKind.RESIDENCY, beneficiary=beneficiary, today=today):
            Attestation.objects.create(
                kind=AttestationKind.RESIDENCY,
                student=beneficiary.student,
                user=beneficiary.user,
                source=AttestationSource.SELF_DECLARED,
                attested_by=holder,
                evidence=f"Declared when applying for {program.name}"[:200],
                valid_from=today,
                valid_until=date(today.year, 12, 31),
            )
    return vouchers


# --- Bulk issue -------------------------------------------------------------


def _rows(csv_text: str) -> list[dict[str, str]]:
    reader = csv.DictReader(io.StringIO(csv_text))
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames or []]
    return [
        {key: (value or "").strip() for key, value in row.items() if key}
        for row in reader
        if any((value or "").strip() for value in row.values() if isinstance(value, str))
    ]


def bulk_issue_job_create(*, program: Program, created_by: User, csv_text: str) -> BulkIssueJob:
    """Record the CSV and enqueue its task after commit. The header is checked now; rows, by the task."""
    needed = CHILD_COLUMNS if program.beneficiary_kind == BeneficiaryKind.CHILD else ADULT_COLUMNS
    try:
        header = next(csv.reader(io.StringIO(csv_text)), [])
        rows = _rows(csv_text)
    except csv.Error as exc:
        raise BulkCsvInvalid(str(exc)) from None
    missing = [column for column in needed if column not in {name.strip().lower() for name in header}]
    if missing:
        raise BulkCsvInvalid(f"The header must name the columns {', '.join(needed)}.", missing_columns=missing)
    if not rows:
        raise BulkCsvInvalid("The CSV has no rows.")
    if len(rows) > settings.VOUCHER_BULK_MAX_ROWS:
        raise BulkCsvInvalid(f"At most {settings.VOUCHER_BULK_MAX_ROWS} rows per file.", max_rows=settings.VOUCHER_BULK_MAX_ROWS)
    with transaction.atomic():
        job = BulkIssueJob.objects.create(program=program, created_by=created_by, csv_text=csv_text, total_rows=len(rows))
        enqueue_after_commit("vouchers.tasks.bulk_issue_run", job.pk)
    return job


def bulk_issue_run(*, job_id: int) -> BulkIssueJob:
    """Issue every row not yet processed. Safe to run twice or after a crash: each row commits
    with the job's progress, under the job's row lock."""
    job = BulkIssueJob.objects.select_related("program", "created_by").get(pk=job_id)
    if job.status in (BulkIssueJob.Status.COMPLETED, BulkIssueJob.Status.FAILED):
        return job
    BulkIssueJob.objects.filter(pk=job.pk, status=BulkIssueJob.Status.QUEUED).update(
        status=BulkIssueJob.Status.RUNNING, started_at=clock.now()
    )
    try:
        rows = _rows(job.csv_text)
    except csv.Error as exc:
        BulkIssueJob.objects.filter(pk=job.pk).update(
            status=BulkIssueJob.Status.FAILED, finished_at=clock.now(), errors=[{"row": None, "code": "bulk_csv_invalid", "message": str(exc)}]
        )
        return BulkIssueJob.objects.get(pk=job.pk)
    program = job.program
    index = job.processed_rows
    while index < len(rows):
        index = _bulk_row(job_id=job.pk, index=index, row=rows[index], program=program, admin=job.created_by)
    BulkIssueJob.objects.filter(pk=job.pk).exclude(status=BulkIssueJob.Status.COMPLETED).update(
        status=BulkIssueJob.Status.COMPLETED, finished_at=clock.now()
    )
    return BulkIssueJob.objects.get(pk=job.pk)


def _bulk_row(*, job_id: int, index: int, row: dict, program: Program, admin: User) -> int:
    """Process row `index` unless another run already did; return the next index to process."""
    try:
        with transaction.atomic(durable=True):
            job = lock_one(BulkIssueJob.objects.filter(pk=job_id))
            if job.processed_rows != index:
                return job.processed_rows
            beneficiary, holder = _row_beneficiary(program, row)
            issued = _issue_locked(
                program=program,
                beneficiary=beneficiary,
                holder=holder,
                issued_by=admin,
                source=IssueSource.BULK,
                residency_declared=False,
                bulk_job=job,
            )
            BulkIssueJob.objects.filter(pk=job_id).update(
                processed_rows=F("processed_rows") + 1, issued_vouchers=F("issued_vouchers") + len(issued)
            )
            _notify_issued(program, holder, issued)
            return index + 1
    except AlreadyIssuedThisPeriod:
        outcome = {"skipped_rows": F("skipped_rows") + 1}
        error = None
    except IntegrityError:  # the same beneficiary issued concurrently by an application
        outcome = {"skipped_rows": F("skipped_rows") + 1}
        error = None
    except DomainError as exc:
        outcome = {"failed_rows": F("failed_rows") + 1}
        error = {"row": index + 2, "code": exc.code, "message": exc.message}  # row 1 is the header
    with transaction.atomic(durable=True):
        job = lock_one(BulkIssueJob.objects.filter(pk=job_id))
        if job.processed_rows != index:
            return job.processed_rows
        if error is not None and len(job.errors) < MAX_RECORDED_ERRORS:
            job.errors.append(error)
        BulkIssueJob.objects.filter(pk=job_id).update(processed_rows=F("processed_rows") + 1, errors=job.errors, **outcome)
    return index + 1


def _row_beneficiary(program: Program, row: dict) -> tuple[Beneficiary, User]:
    if program.beneficiary_kind == BeneficiaryKind.CHILD:
        student = (
            Student.objects.select_related("school")
            .filter(school__code=row.get("school_code", "").lower(), student_number=row.get("student_number", ""))
            .first()
        )
        if student is None:
            raise UnknownStudent()
        links = GuardianLink.objects.filter(student=student, revoked_at__isnull=True, can_manage_money=True).select_related(
            "guardian__user"
        )
        email = row.get("guardian_email", "").lower()
        link = links.filter(guardian__user__email=email).first() if email else links.order_by("created_at", "id").first()
        if link is None:
            raise NoGuardian()
        return eligibility.child(student, postcode=link.guardian.postcode), link.guardian.user
    user = User.objects.filter(email=row.get("email", "").lower(), is_active=True).first()
    if user is None:
        raise UnknownUser()
    date_of_birth = parse_date(row.get("date_of_birth", "") or "")
    if date_of_birth is None:
        raise DateOfBirthRequired("date_of_birth must be YYYY-MM-DD.")
    profile = adult_beneficiary_for(user=user, date_of_birth=date_of_birth, postcode=row.get("postcode", "")[:4])
    return eligibility.adult(profile), user


def _notify_issued(program: Program, holder: User, vouchers: list[Voucher]) -> None:
    total = sum(voucher.face_value for voucher in vouchers)
    first = vouchers[0]
    notify(
        users=[holder],
        kind="voucher_issued",
        title=f"{program.name}: ${format_dollars(total)} in vouchers for {first.beneficiary_first_name}",
        body=f"{len(vouchers)} voucher(s), usable until {first.expires_on:%d %b %Y}. Show the code in the app to a participating provider.",
        data={"voucher_ids": [voucher.pk for voucher in vouchers], "program_id": program.pk},
        dedupe_key=f"voucher_issued:{first.pk}",
    )
