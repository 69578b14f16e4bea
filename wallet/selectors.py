"""Reads of the wallet: balances, statements, card summaries and reconciliation issues.

Who may read which student's card is decided here (`students_with_card_access`),
so the views never build their own tenant filters.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.db.models import F, Q, QuerySet, Sum

from core import clock, school_time
from guardians.models import Guardian, GuardianLink, StaffRole, Student, User
from guardians.selectors import guardian_for_user, staff_for_user
from wallet import accounts, queries
from wallet.models import (
    Account,
    CardCharge,
    CardStatus,
    Entry,
    Hold,
    HoldStatus,
    ReconciliationIssue,
    SpendingControls,
    StudentCard,
    Terminal,
)

# A guardian's wallet belongs to no one school; its statement days are Sydney's.
WALLET_TIME_ZONE = "Australia/Sydney"
# Staff roles that may read a student's card balance and statement at their own school.
CARD_READER_ROLES = (StaffRole.FINANCE, StaffRole.ADMIN)
STATEMENT_EXPORT_BATCH = 1000


# --- Balances ---------------------------------------------------------------


@dataclass(frozen=True)
class Balance:
    balance: int
    held: int
    available: int
    currency: str


def account_balance(account: Account) -> Balance:
    """The cached balance, with only the holds that still reserve money.

    `Account.held` keeps an expired hold until the next write to the account voids
    it; a reader should not see money as reserved that a charge would already use.
    """
    held = 0
    if account.held:
        held = (
            Hold.objects.filter(account=account, status=HoldStatus.PENDING, expires_at__gt=clock.now()).aggregate(
                total=Sum("amount")
            )["total"]
            or 0
        )
    return Balance(balance=account.balance, held=held, available=account.balance - held, currency=account.currency)


def guardian_wallet_balance(guardian: Guardian) -> Balance:
    return account_balance(accounts.guardian_wallet(guardian))


def merchant_payable_balance(merchant) -> int:
    """What we owe a merchant now, in cents (negative: the merchant owes us). The one read of a
    payable's balance, so that a change in how payables are kept is made here only."""
    return accounts.merchant_payable(merchant).balance


# --- Statements -------------------------------------------------------------


def statement_entries(
    *, account: Account, zone: ZoneInfo, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[Entry]:
    """An account's entries, newest first; `date_from`/`date_to` are inclusive local days in `zone`.

    Newest-first by id walks the (account, -id) index; each entry carries the
    running balance, so no page ever sums history.
    """
    entries = Entry.objects.filter(account=account).select_related("transaction")
    since, until = _statement_window(zone, date_from, date_to)
    if since is not None:
        entries = entries.filter(created_at__gte=since)
    if until is not None:
        entries = entries.filter(created_at__lt=until)
    return entries.order_by("-id")


def _statement_window(zone: ZoneInfo, date_from: date | None, date_to: date | None) -> tuple[datetime | None, datetime | None]:
    """The instants bounding inclusive local days `date_from`..`date_to` in `zone` (None: unbounded)."""
    since = school_time.local_midnight(zone, date_from) if date_from is not None else None
    until = school_time.local_midnight(zone, date_to + timedelta(days=1)) if date_to is not None else None
    return since, until


def statement_page(
    *,
    account: Account,
    zone: ZoneInfo,
    limit: int,
    before_id: int | None = None,
    after_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> list[queries.StatementLine]:
    """One keyset page of `statement_entries`, newest first: the `limit` entries just older than
    `before_id` (the newest when None), or with `after_id` the `limit` just newer than it (paging back).
    Both walk the (account, -id) index from the position; no page counts or skips rows."""
    since, until = _statement_window(zone, date_from, date_to)
    return queries.statement_page(account_id=account.pk, limit=limit, since=since, until=until, before_id=before_id, after_id=after_id)


def entries_in_batches(entries: QuerySet[Entry], *, batch_size: int | None = None) -> Iterator[Entry]:
    """Yield a newest-first statement in keyset batches: constant memory, no server-side cursor to hold open."""
    batch_size = batch_size or STATEMENT_EXPORT_BATCH
    last_id = None
    while True:
        page = entries if last_id is None else entries.filter(id__lt=last_id)
        batch = list(page[:batch_size])
        yield from batch
        if len(batch) < batch_size:
            return
        last_id = batch[-1].pk


def wallet_statement_zone(guardian: Guardian) -> ZoneInfo:
    return ZoneInfo(WALLET_TIME_ZONE)


def student_zone(student: Student) -> ZoneInfo:
    return ZoneInfo(student.school.time_zone)


# --- Student cards ----------------------------------------------------------


def students_with_card_access(user: User) -> QuerySet[Student]:
    """Students whose card a user may read: their actively linked children, and (finance or
    admin staff) their school's students. Anyone else's student is not found, never forbidden."""
    visible = Q(pk__in=[])
    guardian = guardian_for_user(user)
    if guardian is not None:
        visible |= Q(pk__in=GuardianLink.objects.filter(guardian=guardian, revoked_at__isnull=True).values("student_id"))
    staff = staff_for_user(user)
    if staff is not None and staff.has_role(*CARD_READER_ROLES):
        visible |= Q(school_id=staff.school_id)
    return Student.objects.select_related("school").filter(visible)


def _linked_children(guardian_id):
    return GuardianLink.objects.filter(guardian_id=guardian_id, revoked_at__isnull=True).values("student_id")


def _linked_child(student_id: int, guardian_id: int) -> QuerySet[Student]:
    """A guardian reading a linked child's card or statement, the common case."""
    return Student.objects.select_related("school").filter(pk=student_id, pk__in=_linked_children(guardian_id))


def _guardian_only(user: User) -> Guardian | None:
    """The user's guardian when that is all their card access comes from (not also finance or admin staff)."""
    guardian = guardian_for_user(user)
    staff = staff_for_user(user)
    return guardian if guardian is not None and (staff is None or not staff.has_role(*CARD_READER_ROLES)) else None


def card_account_with_access(user: User, student_id: int) -> Account | None:
    """A guardian's linked child's card account (with the student and school), in one statement.
    None when there is no such account yet, or for anyone else: use student_with_card_access then."""
    guardian = _guardian_only(user)
    return queries.linked_child_card_account(student_id, guardian.pk) if guardian else None


def student_with_card_access(user: User, student_id: int) -> Student | None:
    """The student if `user` may read their card (see students_with_card_access), else None."""
    guardian = _guardian_only(user)
    if guardian is not None:
        return _linked_child(student_id, guardian.pk).first()
    return students_with_card_access(user).filter(pk=student_id).first()


@dataclass(frozen=True)
class CardSummary:
    student: Student
    balance: Balance
    card: StudentCard | None
    controls: SpendingControls
    spent_today: int
    spent_this_week: int
    day_starts_at: datetime
    week_starts_at: datetime


def current_card(student: Student) -> StudentCard | None:
    """The live (active or frozen) card, else the latest one (lost, awaiting a replacement), else none."""
    cards = StudentCard.objects.filter(student=student)
    return cards.filter(status__in=[CardStatus.ACTIVE, CardStatus.FROZEN]).first() or cards.first()


def card_spent(student: Student, *, at=None) -> tuple[int, int]:
    """Net card spending (charges less their refunds) in the school's current local day and week.

    The same rule the caps apply at the counter (`wallet.cards._card_state`).
    """
    day_start, day_end = school_time.day_window(student.school, at=at)
    week_start, week_end = school_time.week_window(student.school, at=at)
    net = F("amount") - F("refunded_amount")
    totals = CardCharge.objects.filter(student=student, created_at__gte=week_start, created_at__lt=week_end).aggregate(
        week=Sum(net), day=Sum(net, filter=Q(created_at__gte=day_start, created_at__lt=day_end))
    )
    return totals["day"] or 0, totals["week"] or 0


def card_summary(student: Student) -> CardSummary:
    now = clock.now()
    account = accounts.student_card_account(student)
    # Read without creating: a student no guardian has set limits for has none.
    controls = SpendingControls.objects.filter(student=student).first() or SpendingControls(student=student)
    spent_today, spent_this_week = card_spent(student, at=now)
    return CardSummary(
        student=student,
        balance=account_balance(account),
        card=current_card(student),
        controls=controls,
        spent_today=spent_today,
        spent_this_week=spent_this_week,
        day_starts_at=school_time.day_window(student.school, at=now)[0],
        week_starts_at=school_time.week_window(student.school, at=now)[0],
    )


# --- Reconciliation ---------------------------------------------------------


def reconciliation_issues_visible_to(user: User, *, state: str | None = None) -> QuerySet[ReconciliationIssue]:
    """Platform staff (platform finance) see every issue. A school's finance or admin staff see only
    the issues of accounts that belong to their school: its students' cards and its merchants'
    payables. Processor clearing, fees, guardians' wallets (which span schools), programs' funding
    and unbalanced transactions are the platform's, and so is whatever cannot be placed in one school."""
    issues = reconciliation_issues(state=state)
    if user.is_staff:
        return issues
    staff = staff_for_user(user)
    if staff is None or not staff.has_role(StaffRole.FINANCE, StaffRole.ADMIN):
        return issues.none()
    return issues.filter(Q(account__student__school_id=staff.school_id) | Q(account__merchant__school_id=staff.school_id))


def reconciliation_issues(*, state: str | None = None) -> QuerySet[ReconciliationIssue]:
    """Issues newest first; `state` is `open`, `resolved` or None for both."""
    issues = ReconciliationIssue.objects.select_related("account").order_by("-id")
    if state == "open":
        issues = issues.filter(resolved_at__isnull=True)
    elif state == "resolved":
        issues = issues.filter(resolved_at__isnull=False)
    return issues


def terminals_of_merchant(merchant_id: int) -> QuerySet[Terminal]:
    """A merchant's terminals, revoked ones included (they are history)."""
    return Terminal.objects.filter(merchant_id=merchant_id).select_related("merchant")
