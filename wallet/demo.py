"""Demo money for `make run`: wallets, cards with balances and caps. Idempotent (fixed references)."""

from guardians.models import Guardian, Student
from wallet import accounts, cards, ledger
from wallet.models import AccountKind, SpendingControls, StudentCard

# Demo card numbers, printed by demo_seed so a newcomer can charge them from the terminal.
DEMO_CARDS = {"HPS-0001": "TBX-CARD-0001", "HPS-0002": "TBX-CARD-0002", "HPS-0003": "TBX-CARD-0003", "BPS-0001": "TBX-CARD-0004", "BPS-0002": "TBX-CARD-0005"}


def opening_balances():
    """Where the demo's starting money comes from: equity brought in, not card payments.

    Booking it out of processor clearing would claim the processor owes us money no top-up
    was ever charged for, and reconciliation rightly reports that as a processor mismatch.
    """
    return accounts.system_account(code="demo_opening_balances", kind=AccountKind.OPENING_BALANCE, name="Demo opening balances")


def seed() -> None:
    source = opening_balances()
    for guardian in Guardian.objects.select_related("user"):
        wallet = accounts.guardian_wallet(guardian)
        ledger.transfer(
            kind="demo_opening_balance",
            reference=f"demo:wallet:{guardian.user.email}",
            legs=[ledger.Leg(source.pk, -5000), ledger.Leg(wallet.pk, 5000)],
            actor="system:demo",
            memo="Demo opening balance",
        )
    for student in Student.objects.filter(student_number__in=DEMO_CARDS):
        identifier = DEMO_CARDS[student.student_number]
        if not StudentCard.objects.filter(identifier_hash=cards.card_identifier_hash(identifier)).exists():
            cards.card_issue(student=student, identifier=identifier, issued_by=None)
        card_account = accounts.student_card_account(student)
        ledger.transfer(
            kind="demo_card_fund",
            reference=f"demo:card:{student.student_number}",
            legs=[ledger.Leg(source.pk, -2000), ledger.Leg(card_account.pk, 2000)],
            actor="system:demo",
            memo="Demo card balance",
        )
        SpendingControls.objects.get_or_create(student=student, defaults={"daily_cap": 800, "weekly_cap": 2500, "low_balance_threshold": 500})
