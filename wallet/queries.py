"""The wallet's hot reads as SQL (core/sql.py says why): what every sale, funding and statement reads."""

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from core.sql import columns, fetch_one, rows
from guardians.models import Guardian, School, Student
from wallet.models import Account, Merchant, PaymentMethod, Terminal

# The owner columns an account is found by, with its kind (an indexed unique pair each).
OWNER_COLUMNS = {"guardian": "guardian_id", "student": "student_id", "merchant": "merchant_id"}


# The rule that lets a merchant find a school's card (wallet/card_acceptance.py), for the reads that
# look a card up by its identifier for a merchant: `s` is the card's student, `%(merchant)s` the
# merchant's id. wallet_card_charge (wallet/sql/card_charge.pg.sql) applies it again inside the charge.
CARD_ACCEPTED_BY_MERCHANT = """EXISTS (SELECT 1 FROM wallet_cardacceptance a
                        WHERE a.school_id = s.school_id AND a.merchant_id = %(merchant)s AND a.disabled_at IS NULL)"""


@cache
def _linked_child_card_account_sql() -> str:
    return f"""
        SELECT {columns(Account, "a")}, {columns(Student, "s")}, {columns(School, "sc")}
          FROM wallet_account a
          JOIN guardians_student s ON s.id = a.student_id
          JOIN guardians_school sc ON sc.id = s.school_id
         WHERE a.kind = 'student_card' AND a.student_id = %s
           AND EXISTS (SELECT 1 FROM guardians_guardianlink l
                        WHERE l.student_id = a.student_id AND l.guardian_id = %s AND l.revoked_at IS NULL)"""


def linked_child_card_account(student_id: int, guardian_id: int) -> Account | None:
    """A child's card account, with the student and school, if the guardian has a live link to the child."""
    row = fetch_one(_linked_child_card_account_sql(), [student_id, guardian_id], (Account, Student, School))
    if row is None:
        return None
    account, student, school = row
    student.school, account.student = school, student
    return account


@cache
def _auto_topup_method_sql() -> str:
    return f"""
        SELECT {columns(PaymentMethod, "pm")}, {columns(Guardian, "g")}
          FROM wallet_paymentmethod pm
          JOIN guardians_guardian g ON g.id = pm.guardian_id
         WHERE pm.id = wallet_auto_topup_method_id(%s)"""


def auto_topup_method(student_id: int) -> PaymentMethod | None:
    """The saved card of the student's first money guardian (oldest live link) who turned automatic
    top-up on, with its guardian (the rule: wallet/sql/auto_topup.pg.sql)."""
    row = fetch_one(_auto_topup_method_sql(), [student_id], (PaymentMethod, Guardian))
    if row is None:
        return None
    method, guardian = row
    method.guardian = guardian
    return method


@cache
def _account_sql(where: str) -> str:
    return f"SELECT {columns(Account, 'a')} FROM wallet_account a WHERE {where} ORDER BY a.id LIMIT 1"


def account_of_owner(kind: str, owner: str, owner_id: int) -> Account | None:
    row = fetch_one(_account_sql(f"a.kind = %s AND a.{OWNER_COLUMNS[owner]} = %s"), [kind, owner_id], (Account,))
    return row[0] if row else None


def account_with_system_code(code: str) -> Account | None:
    row = fetch_one(_account_sql("a.system_code = %s"), [code], (Account,))
    return row[0] if row else None


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One line of a statement page: an entry with what moved the money. A read row, not a model:
    a page is fifty of them, and loading two model instances per line doubled the page's cost."""

    id: int
    created_at: datetime
    amount: int
    balance_after: int
    transaction_id: int
    kind: str
    memo: str


_STATEMENT_SELECT = """
    SELECT e.id, e.created_at, e.amount, e.balance_after, e.transaction_id, t.kind, t.memo
      FROM wallet_entry e
      JOIN wallet_ledgertransaction t ON t.id = e.transaction_id"""


def statement_page(
    *,
    account_id: int,
    limit: int,
    since: datetime | None,
    until: datetime | None,
    before_id: int | None,
    after_id: int | None,
) -> list[StatementLine]:
    """One keyset page of an account's entries, newest first: the `limit` just older than `before_id`
    (the newest when None), or with `after_id` the `limit` just newer (paging back). Both walk the
    (account, id) index from the position; no page counts or skips rows."""
    conditions, params = ["e.account_id = %s"], [account_id]
    for condition, value in (
        ("e.created_at >= %s", since),
        ("e.created_at < %s", until),
        ("e.id < %s", before_id),
        ("e.id > %s", after_id),
    ):
        if value is not None:
            conditions.append(condition)
            params.append(value)
    order = "ASC" if after_id is not None else "DESC"
    lines = [
        StatementLine(*row)
        for row in rows(
            f"{_STATEMENT_SELECT} WHERE {' AND '.join(conditions)} ORDER BY e.id {order} LIMIT %s", [*params, limit]
        )
    ]
    if after_id is not None:
        lines.reverse()
    return lines


@cache
def _terminal_by_prefix_sql() -> str:
    return f"""
        SELECT {columns(Terminal, "t")}, {columns(Merchant, "m")}
          FROM wallet_terminal t
          JOIN wallet_merchant m ON m.id = t.merchant_id
         WHERE t.key_prefix = %s AND t.revoked_at IS NULL AND m.is_active
         ORDER BY t.id
         LIMIT 1"""


def terminal_by_prefix(prefix: str) -> Terminal | None:
    """The live terminal of an active merchant whose key starts with `prefix`, with its merchant: the one
    indexed probe of every terminal request (the key itself is compared by the caller)."""
    row = fetch_one(_terminal_by_prefix_sql(), [prefix], (Terminal, Merchant))
    if row is None:
        return None
    terminal, merchant = row
    terminal.merchant = merchant
    return terminal
