"""Two of every tenant, built once per test module: two schools (each with a family, staff in
every role, a canteen merchant with a terminal), and two voucher programs (each with its
administrator). Tenant A's objects are the ones the matrix puts in paths, queries and bodies;
tenant B's callers must never reach them."""

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import time_machine
from django.test import TestCase, override_settings

from api.auth import tokens_for_new_session
from audit.services import audit_record
from canteen import orders
from canteen.models import CanteenSettings, MenuItem
from events import services as events
from events.links import event_link_token
from events.services.signups import Evidence
from guardians import absences
from guardians.leavers_models import StudentLeaver
from guardians.models import StaffRole
from guardians.webhook_subscriptions import webhook_subscription_create
from tests.factories import (
    GuardianLinkFactory,
    MerchantAdministratorFactory,
    MerchantFactory,
    ProgramAdministratorFactory,
    SchoolFactory,
    StaffFactory,
    StudentCardFactory,
    StudentFactory,
    give_card_money,
    give_wallet_money,
)
from tests.vouchers.factories import approve, issue, make_program, printed_qr
from vouchers import issuing, redemption, settlement_runs
from wallet import cards
from wallet.models import PaymentMethod, TopUp
from wallet.terminal_keys import terminal_create

SYDNEY = ZoneInfo("Australia/Sydney")
# Monday 30 November 2026, 07:00 in Sydney: a school morning before the canteen's cut-off.
NOW = datetime(2026, 11, 30, 7, 0, tzinfo=SYDNEY)
SERVICE_DAY = date(2026, 12, 2)

STAFF_ROLES = tuple(StaffRole.values)
SIGNATURE = {"width": 600, "height": 200, "strokes": [[[40, 150], [60, 90], [95, 140], [130, 70]]]}
FORM = {
    "body": "Year 4 will visit the museum.",
    "statement": "I give permission for my child to attend.",
    "questions": [{"key": "photo_ok", "label": "May we publish photos?", "type": "yes_no", "required": True}],
}


@dataclass(frozen=True)
class Principal:
    """One caller of the matrix: its kind (what access.py grants), its tenant, and its headers."""

    name: str
    kind: str
    tenant: str | None
    headers: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass
class Tenant:
    """One school's and one program's worth of objects; `markers` are strings only its members may read."""

    name: str
    school: object = None
    student: object = None
    link: object = None
    staff: dict = field(default_factory=dict)
    merchant: object = None
    terminal: object = None
    terminal_key: str = ""
    merchant_admin: object = None
    card_number: str = ""
    charge: object = None
    menu_item: object = None
    order: object = None
    event: object = None
    signup: object = None
    event_token: str = ""
    absence: object = None
    subscription: object = None
    topup: object = None
    program_admin: object = None
    program: object = None
    approval: object = None
    voucher: object = None
    voucher_qr: str = ""
    redemption: object = None
    settlement: object = None
    settlement_run: object = None
    bulk_job: object = None
    audit_entry: object = None
    leaver: object = None
    markers: tuple = ()


def _tenant(name: str) -> Tenant:
    t = Tenant(name=name)
    secret = f"Secret{name.upper()}{uuid.uuid4().hex[:6]}"
    t.school = SchoolFactory(postcode="2000", canteen_cutoff=time(8, 30))
    t.student = StudentFactory(school=t.school, last_name=f"{secret}Student", date_of_birth=date(2016, 4, 2), year_level=4)
    t.link = GuardianLinkFactory(student=t.student, guardian__postcode="2010", guardian__user__email=f"{secret.lower()}@example.com")
    t.staff = {role: StaffFactory(school=t.school, roles=[role]) for role in STAFF_ROLES}
    give_wallet_money(t.link.guardian, 20_000)

    t.merchant = MerchantFactory(school=t.school, name=f"{secret} Canteen", categories=["canteen", "sport"])
    terminal, t.terminal_key = terminal_create(merchant=t.merchant, label="Counter")
    t.terminal = terminal
    t.merchant_admin = MerchantAdministratorFactory(merchant=t.merchant)
    CanteenSettings.objects.create(school=t.school, merchant=t.merchant)
    t.card_number = f"CARD-{name.upper()}-0001"
    StudentCardFactory(student=t.student, identifier=t.card_number)
    give_card_money(t.student, 5_000)
    t.charge = cards.card_charge(
        terminal=terminal, card_identifier=t.card_number, amount=250, categories=["canteen"], description="Muffin",
        idempotency_key=uuid.uuid4().hex,
    ).charge

    t.menu_item = MenuItem.objects.create(school=t.school, name=f"{secret} wrap", price=650, category="lunch")
    t.order = orders.order_place(
        link=t.link, service_date=SERVICE_DAY, lines=[orders.LineRequest(item_id=t.menu_item.pk, quantity=1)], note="",
        reference=f"world:{uuid.uuid4().hex}",
    )

    t.event = events.event_create(
        staff=t.staff["admin"], form=FORM, title=f"{secret} excursion", description="A day out.", kind="excursion",
        location="Museum", starts_at=NOW + timedelta(days=14), ends_at=NOW + timedelta(days=14, hours=6),
        signup_deadline=NOW + timedelta(days=7), cost=0, capacity=30, eligible_year_levels=[4],
    )
    t.event, _ = events.event_publish(event_id=t.event.pk, staff=t.staff["admin"])
    t.signup = events.signup_sign(
        event_id=t.event.pk, link=t.link, form_hash=t.event.consent_form.content_hash, answers={"photo_ok": True},
        signature=SIGNATURE, typed_name="Olivia Parent", statement_accepted=True,
        evidence=Evidence(ip_address="127.0.0.1", user_agent="matrix"),
    )
    t.event_token = event_link_token(event_id=t.event.pk, user_id=t.link.guardian.user_id)
    t.absence = absences.absence_report(link=t.link, first_day=SERVICE_DAY, last_day=SERVICE_DAY, reason="illness")
    t.subscription = webhook_subscription_create(
        url=f"http://127.0.0.1:9/{secret}/hooks", event_types=["card.charged"], school=t.school,
        created_by=t.staff["admin"].user,
    )
    PaymentMethod.objects.create(
        guardian=t.link.guardian, stripe_customer_id=f"cus_{name}", stripe_payment_method_id=f"pm_{name}", brand="visa",
        last4="4242", saved_at=NOW,
    )
    t.topup = TopUp.objects.create(guardian=t.link.guardian, amount=2000, fee=65, payment_intent_id=f"pi_world_{uuid.uuid4().hex[:16]}")

    t.program_admin = ProgramAdministratorFactory()
    t.program = make_program(admin=t.program_admin, code=f"kids-{name}-{uuid.uuid4().hex[:6]}", name=f"Active Kids {name.upper()}")
    t.approval = approve(t.program, t.merchant, categories=["sport"])
    t.voucher = issue(t.program, link=t.link)[0]
    t.voucher_qr = printed_qr(t.voucher)
    t.redemption = redemption.voucher_redeem(
        terminal=terminal, credentials=[redemption.Credential(qr=t.voucher_qr, date_of_birth=t.student.date_of_birth)],
        amount=1000, category="sport", description="Swim term", reference=f"world:{uuid.uuid4().hex}",
    ).redemption
    t.settlement_run, _ = settlement_runs.settlement_run_execute(
        program=t.program,
        period=settlement_runs.SettlementPeriod(business_date=NOW.date(), cutoff=NOW + timedelta(hours=1), time_zone=t.program.time_zone),
        started_by="world",
    )
    t.settlement = t.settlement_run.settlements.get()
    t.bulk_job = issuing.bulk_issue_job_create(
        program=t.program, created_by=t.program_admin.user, csv_text=f"school_code,student_number\n{t.school.code},{t.student.student_number}\n"
    )
    t.audit_entry = audit_record(
        action="canteen.menu_item_update", object_type="canteen.menu_item", object_id=t.menu_item.pk,
        school_id=t.school.pk, before={"price": 500}, after={"price": 550}, actor=t.staff["admin"].user,
    )
    # A leaving day ahead, not yet come: the leaver operations have a decision to show and to undo.
    t.leaver = StudentLeaver.objects.create(
        student=t.student, leaving_on=NOW.date() + timedelta(days=60), marked_by=t.staff["admin"].user, retain_until=NOW.date() + timedelta(days=90)
    )
    t.markers = (secret,)
    return t


def _bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens_for_new_session(user)['access']}"}


@dataclass
class World:
    a: Tenant
    b: Tenant
    principals: list[Principal]


def build_world() -> World:
    a, b = _tenant("a"), _tenant("b")
    principals = [Principal("anonymous", "anonymous", None)]
    for t in (a, b):
        principals.append(Principal(f"guardian_{t.name}", "guardian", t.name, _bearer(t.link.guardian.user)))
        for role, staff in t.staff.items():
            principals.append(Principal(f"staff_{t.name}_{role}", f"staff:{role}", t.name, _bearer(staff.user)))
        principals.append(Principal(f"terminal_{t.name}", "terminal", t.name, {"HTTP_X_TERMINAL_KEY": t.terminal_key}))
        principals.append(Principal(f"program_admin_{t.name}", "program_admin", t.name, _bearer(t.program_admin.user)))
        principals.append(Principal(f"merchant_admin_{t.name}", "merchant_admin", t.name, _bearer(t.merchant_admin.user)))
    return World(a=a, b=b, principals=principals)


# The local fake gateway (which signs the events it delivers to our webhook), and webhook targets on
# loopback: no call leaves the process.
@override_settings(
    PAYMENT_GATEWAY="fake",
    STRIPE_WEBHOOK_SECRET="whsec_security_suite",
    WEBHOOKS_ALLOW_PRIVATE_TARGETS=True,
    WEBHOOKS_REQUIRE_HTTPS=False,
)
class WorldTestCase(TestCase):
    """Builds the world once per class, inside the class's transaction (Django's setUpTestData), with
    the clock frozen at a school morning before the canteen's cut-off so every access token stays
    valid. Each test runs in its own savepoint, so one test's writes never reach the next."""

    world: World

    @classmethod
    def setUpClass(cls):
        cls._clock = time_machine.travel(NOW, tick=False)
        cls._clock.start()
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls._clock.stop()

    @classmethod
    def setUpTestData(cls):
        cls.world = build_world()
