"""A family at a school with a canteen: two guardians who both funded the child's card, a terminal,
orders ahead, and a paid excursion. The clock is Monday 30 November 2026, 07:00 in Sydney."""

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import time_machine

from core import clock
from events import services as event_services
from events.models import Signup
from events.services.payments import signup_pay_wallet
from events.services.signups import Evidence
from guardians.models import GuardianLink, StaffMember, Student
from tests.canteen.conftest import MONDAY_MORNING, Canteen, make_canteen
from tests.events.conftest import ANSWERS, FORM, SIGNATURE, event_fields
from tests.factories import GuardianLinkFactory, StaffFactory, StudentCardFactory, give_wallet_money
from wallet import accounts, cards
from wallet.models import StudentCard

MONDAY = date(2026, 11, 30)
CARD_NUMBER = "LEAVER-0001"


@pytest.fixture(autouse=True)
def _settings(settings):
    from config.celery import app

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.EVENTS_PUBLIC_BASE_URL = "https://tuckbox.test"
    settings.PAYMENT_GATEWAY = "fake"
    settings.LEAVER_RETENTION_DAYS = 30
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@dataclass
class Family:
    canteen: Canteen
    admin: StaffMember
    other_link: GuardianLink  # the second guardian, who also funded the card
    card: StudentCard
    client_for: object
    terminal_client: object

    @property
    def admin_client(self):
        """Signed in now: access tokens expire, and tests move the clock by days."""
        return self.client_for(self.admin.user)

    @property
    def student(self) -> Student:
        return self.canteen.student

    @property
    def link(self) -> GuardianLink:
        return self.canteen.link

    def mark(self, leaving_on: date, *, key: str | None = None, client=None, reason: str = "moved"):
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        return (client or self.admin_client).post(
            f"/api/v1/students/{self.student.pk}/leaver", {"leaving_on": leaving_on.isoformat(), "reason": reason}, format="json", **headers
        )

    def charge(self, amount: int, key: str | None = None):
        return self.terminal_client.post(
            "/api/v1/terminal/charges",
            {"card_identifier": CARD_NUMBER, "amount": amount, "description": "Recess"},
            format="json",
            HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex,
        )


def fund(link: GuardianLink, amount: int) -> None:
    cards.card_fund(link=link, amount=amount, reference=f"card_fund:test:{uuid.uuid4().hex}")


def make_family(client_for, terminal_client, *, first_funds=2000, second_funds=1000) -> Family:
    canteen = make_canteen(client_for, wallet=10_000)
    school = canteen.school
    other = GuardianLinkFactory(student=canteen.student)
    give_wallet_money(other.guardian, 3000)
    card = StudentCardFactory(student=canteen.student, identifier=CARD_NUMBER)
    if first_funds:
        fund(canteen.link, first_funds)
    if second_funds:
        fund(other, second_funds)
    admin = StaffFactory(school=school, roles=["admin"])
    return Family(
        canteen=canteen,
        admin=admin,
        other_link=other,
        card=card,
        client_for=client_for,
        terminal_client=terminal_client(canteen.settings.merchant),
    )


@pytest.fixture
def family(client_for, terminal_client):
    with time_machine.travel(MONDAY_MORNING, tick=False):
        yield make_family(client_for, terminal_client)


def paid_excursion(family: Family, *, days_ahead: int = 14) -> Signup:
    """An excursion `days_ahead` from now, signed for and paid from the first guardian's wallet."""
    teacher = StaffFactory(school=family.canteen.school, roles=["admin", "teacher"])
    event = event_services.event_create(staff=teacher, form=FORM, **event_fields(
        starts_at=clock.now() + timedelta(days=days_ahead), ends_at=clock.now() + timedelta(days=days_ahead, hours=6),
        signup_deadline=clock.now() + timedelta(days=days_ahead - 1),
    ))
    event, _ = event_services.event_publish(event_id=event.pk, staff=teacher)
    signup = event_services.signup_sign(
        event_id=event.pk, link=family.link, form_hash=event.consent_form.content_hash, answers=ANSWERS, signature=SIGNATURE,
        typed_name=family.link.guardian.user.full_name, statement_accepted=True, evidence=Evidence(ip_address="203.0.113.9", user_agent="pytest-browser/1.0"),
    )
    signup_pay_wallet(signup_id=signup.pk, payer=family.link.guardian, actor=f"user:{family.link.guardian.user_id}")
    signup.refresh_from_db()
    return signup


def wallet_balance(link: GuardianLink) -> int:
    return accounts.guardian_wallet(link.guardian).balance


def card_balance(student: Student) -> int:
    return accounts.student_card_account(student).balance


# Card payments through the Stripe gateway, faked at its HTTP boundary (tests/wallet/conftest.py).
from tests.wallet.conftest import paid_topup, payments, send_event  # noqa: E402,F401
