"""Each voucher's value, reserved in its own ledger account from issue until it is spent or released.

Issuing moves the face value from the program's funding account into one reserve account per
voucher (one balanced transaction per issue). A redemption pays the merchant from the reserve
(vouchers/sql/voucher_redeem.pg.sql), locking the voucher and never the program's funding, so
redemptions of one program run side by side.

Invariant: a live voucher's reserve balance is its `remaining_value` plus, briefly, what a
single-use redemption forfeited; an expired, revoked, cancelled or used-up voucher's reserve
goes back to the funding account. Deadlines are decided at request time (a redemption checks
`expires_at` itself); the release job only moves the money, and is safe to run twice.
"""

import uuid

from django.db import transaction

from core import clock
from core.jobs import enqueue_after_commit
from core.locks import lock_one
from vouchers.models import LIVE_STATES, Program, Voucher
from wallet import ledger
from wallet.models import Account, AccountKind


def reserves_open(vouchers: list[Voucher]) -> None:
    """Give each new (unsaved) voucher its reserve account, opened empty; funded by `reserves_fund`."""
    opened = Account.objects.bulk_create(
        [Account(kind=AccountKind.VOUCHER_FUNDING, name=f"Reserve of voucher {voucher.number}", allow_negative=False) for voucher in vouchers]
    )
    for voucher, account in zip(vouchers, opened, strict=True):
        voucher.reserve_account = account


def reserves_fund(*, program: Program, vouchers: list[Voucher], actor: str) -> None:
    """Inside the issuing transaction: move each voucher's face value from the program's funding into its reserve."""
    locked = ledger.lock_accounts([program.funding_account_id, *(voucher.reserve_account_id for voucher in vouchers)])
    ledger.post_locked(
        accounts=locked,
        kind="voucher_reserve",
        reference=f"voucher_reserve:{vouchers[0].pk}",
        legs=[
            ledger.Leg(program.funding_account_id, -sum(voucher.face_value for voucher in vouchers)),
            *(ledger.Leg(voucher.reserve_account_id, voucher.face_value) for voucher in vouchers),
        ],
        actor=actor,
        memo=f"{program.name}: {len(vouchers)} voucher(s) issued"[:300],
        metadata={"program_id": program.pk, "voucher_ids": [voucher.pk for voucher in vouchers]},
    )


def reserve_target(voucher: Voucher) -> int:
    """What the reserve should hold now: what is left to spend, or nothing once it cannot be spent."""
    return voucher.remaining_value if voucher.state_at(clock.now()) in LIVE_STATES else 0


def reserve_settle_locked(*, voucher: Voucher, accounts: dict[int, Account], actor: str) -> None:
    """Bring the voucher's reserve to `reserve_target`, from or to the program's funding.

    The caller holds the voucher's row lock and has locked its reserve and the funding account.
    """
    reserve = accounts[voucher.reserve_account_id]
    difference = reserve.balance - reserve_target(voucher)
    if difference == 0:
        return
    funding_id = voucher.program.funding_account_id
    ledger.post_locked(
        accounts=accounts,
        kind="voucher_reserve_release" if difference > 0 else "voucher_reserve",
        # Each settlement is a new fact (a void can restore what a release returned): the lock, not the reference, makes it once.
        reference=f"voucher_reserve_settle:{voucher.pk}:{uuid.uuid4().hex[:16]}",
        legs=[ledger.Leg(reserve.pk, -difference), ledger.Leg(funding_id, difference)],
        actor=actor,
        memo=f"Reserve of voucher {voucher.number}",
        metadata={"program_id": voucher.program_id, "voucher_id": voucher.pk},
    )


def voucher_reserve_release(*, voucher_id: int) -> None:
    """Return what a voucher's reserve holds beyond `reserve_target` to the program. Safe to run twice."""
    with transaction.atomic(durable=True):
        voucher = lock_one(Voucher.objects.select_related("program").filter(pk=voucher_id))
        if voucher.reserve_account_id is None:
            return
        locked = ledger.lock_accounts([voucher.reserve_account_id, voucher.program.funding_account_id])
        reserve_settle_locked(voucher=voucher, accounts=locked, actor="system")


def reserve_release_enqueue(voucher_id: int) -> None:
    """After the current transaction commits, release what the voucher can no longer spend."""
    enqueue_after_commit("vouchers.tasks.release_voucher_reserve", voucher_id)


def reserves_release_due(*, limit: int = 1000) -> int:
    """The sweep: release the reserves of vouchers that expired (or were forfeited, revoked, cancelled)
    with money still reserved. Returns how many it released."""
    now = clock.now()
    stale = (
        Voucher.objects.filter(reserve_account__balance__gt=0)
        .exclude(state__in=LIVE_STATES, expires_at__gt=now, remaining_value__gt=0)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    released = 0
    for voucher_id in list(stale):
        voucher_reserve_release(voucher_id=voucher_id)
        released += 1
    return released
