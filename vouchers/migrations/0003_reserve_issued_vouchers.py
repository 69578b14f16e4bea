"""Reserve the remaining value of every voucher issued before reserves existed (vouchers/reserves.py).

Per program, one balanced ledger transaction moves the live vouchers' remaining value from the
program's funding account into one new reserve account per voucher. Vouchers that can no longer
be spent get an empty reserve. Written with the historical models and the ledger's own columns, as
wallet/ledger.py writes them; the ledger's database guards (balanced, append-only) check it.
"""

from django.db import migrations
from django.utils import timezone

LIVE_STATES = ("issued", "partly_redeemed")


def reserve_issued_vouchers(apps, schema_editor):
    Account = apps.get_model("wallet", "Account")
    Entry = apps.get_model("wallet", "Entry")
    LedgerTransaction = apps.get_model("wallet", "LedgerTransaction")
    Program = apps.get_model("vouchers", "Program")
    Voucher = apps.get_model("vouchers", "Voucher")
    now = timezone.now()
    for program in Program.objects.order_by("pk"):
        vouchers = list(Voucher.objects.filter(program=program, reserve_account__isnull=True).order_by("pk"))
        if not vouchers:
            continue
        reserves = Account.objects.bulk_create(
            [Account(kind="voucher_funding", name=f"Reserve of voucher {v.number}", allow_negative=False, created_at=now) for v in vouchers]
        )
        for voucher, reserve in zip(vouchers, reserves, strict=True):
            voucher.reserve_account = reserve
        Voucher.objects.bulk_update(vouchers, ["reserve_account"])
        live = [(v, r) for v, r in zip(vouchers, reserves, strict=True) if v.state in LIVE_STATES and v.remaining_value > 0]
        total = sum(v.remaining_value for v, _ in live)
        if total == 0:
            continue
        funding = Account.objects.select_for_update().get(pk=program.funding_account_id)
        posted = LedgerTransaction.objects.create(
            kind="voucher_reserve",
            reference=f"voucher_reserve_migration:{program.pk}",
            memo=f"{program.name}: vouchers issued before reserves"[:300],
            actor="system",
            metadata={"program_id": program.pk, "voucher_ids": [v.pk for v, _ in live]},
            created_at=now,
        )
        funding.balance -= total
        entries = [Entry(transaction=posted, account=funding, amount=-total, balance_after=funding.balance, created_at=now)]
        for voucher, reserve in live:
            reserve.balance = voucher.remaining_value
            entries.append(Entry(transaction=posted, account=reserve, amount=reserve.balance, balance_after=reserve.balance, created_at=now))
        Entry.objects.bulk_create(entries)
        Account.objects.filter(pk=funding.pk).update(balance=funding.balance)
        Account.objects.bulk_update([reserve for _, reserve in live], ["balance"])


class Migration(migrations.Migration):
    dependencies = [
        ("vouchers", "0002_voucher_reserve_account"),
        ("wallet", "0005_merge_opening_balance_and_card_acceptance"),
    ]

    operations = [migrations.RunPython(reserve_issued_vouchers, migrations.RunPython.noop)]
