"""Load the demo data for `make run`. Safe to run again: nothing is duplicated."""

import os
from datetime import date, time, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from canteen import demo as canteen_demo
from canteen import demo_live
from core import clock
from events import demo as events_demo
from guardians.models import (
    ClosureDay,
    Guardian,
    GuardianLink,
    ProgramAdministrator,
    School,
    StaffMember,
    Student,
    Term,
    User,
)
from vouchers import demo as vouchers_demo
from wallet import demo as wallet_demo
from wallet.card_acceptance import card_acceptance_enable
from wallet.models import Merchant, MerchantAdministrator, Terminal
from wallet.terminal_keys import parse_prefix, terminal_create

DEMO_PASSWORD = "tuckbox-demo-2026"
LIVE_GUARDIAN = "olivia.parent@example.com"
MERCHANT_ADMIN = "manager@harbourside-canteen.example"  # manages Harbourside Canteen's terminals
# A fixed key so the printed key stays valid across runs of the demo. Never used outside it.
DEMO_TERMINAL_KEY = "tbx_term_demo0001_D3moCanteenCounterKeyN0tForProduction"

SCHOOLS = [
    dict(code="harbourside", name="Harbourside Public School", time_zone="Australia/Sydney", canteen_cutoff=time(8, 30), postcode="2000"),
    dict(code="banksia", name="Banksia Primary School", time_zone="Australia/Perth", canteen_cutoff=time(8, 15), postcode="6000"),
]
TERMS_2026 = [("Term 1", date(2026, 2, 2), date(2026, 4, 2)), ("Term 2", date(2026, 4, 20), date(2026, 6, 26)),
              ("Term 3", date(2026, 7, 13), date(2026, 9, 18)), ("Term 4", date(2026, 10, 6), date(2026, 12, 18))]
TERMS_2027 = [("Term 1 2027", date(2027, 2, 1), date(2027, 4, 1)), ("Term 2 2027", date(2027, 4, 19), date(2027, 6, 25))]
STAFF = [
    ("harbourside", "admin@harbourside.example", "Hana", "Admin", ["admin"]),
    ("harbourside", "canteen@harbourside.example", "Cam", "Cook", ["canteen"]),
    ("harbourside", "teacher@harbourside.example", "Tess", "Teacher", ["teacher"]),
    ("harbourside", "finance@harbourside.example", "Finn", "Ledger", ["finance"]),
    ("banksia", "admin@banksia.example", "Bea", "Admin", ["admin", "teacher"]),
    ("banksia", "canteen@banksia.example", "Col", "Canteen", ["canteen"]),
]
GUARDIANS = [
    ("olivia.parent@example.com", "Olivia", "Nguyen", "2000"),
    ("sam.parent@example.com", "Sam", "Nguyen", "2000"),
    ("priya.parent@example.com", "Priya", "Shah", "6000"),
]
STUDENTS = [
    # school, number, first, last, dob, year, class, guardians (emails)
    ("harbourside", "HPS-0001", "Mia", "Nguyen", date(2016, 4, 2), 4, "4B", ["olivia.parent@example.com", "sam.parent@example.com"]),
    ("harbourside", "HPS-0002", "Leo", "Nguyen", date(2019, 9, 14), 1, "1A", ["olivia.parent@example.com"]),
    ("harbourside", "HPS-0003", "Ava", "Nguyen", date(2014, 1, 20), 6, "6C", ["sam.parent@example.com"]),
    ("banksia", "BPS-0001", "Arjun", "Shah", date(2017, 6, 8), 3, "3R", ["priya.parent@example.com"]),
    ("banksia", "BPS-0002", "Isla", "Shah", date(2020, 11, 30), 0, "KJ", ["priya.parent@example.com"]),
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo schools, people, merchant and terminal."

    def add_arguments(self, parser):
        parser.add_argument("--quiet", action="store_true", help="Print nothing.")
        parser.add_argument(
            "--base-url", default=f"http://127.0.0.1:{os.environ.get('PORT', '8000')}",
            help="Where the printed links point (default: 127.0.0.1 on $PORT).",
        )
        parser.add_argument(
            "--live-cutoff-seconds", type=int, default=int(os.environ.get("DEMO_LIVE_CUTOFF_SECONDS", "180")),
            help="How far ahead the live demo school's canteen cut-off is set.",
        )

    def handle(self, *args, quiet=False, base_url="", live_cutoff_seconds=180, **options):
        # Known passwords and a fake way to pay: never on a system that takes real money.
        if settings.PAYMENT_GATEWAY != "fake":
            raise CommandError("demo_seed runs only with PAYMENT_GATEWAY=fake (make run sets it).")
        with transaction.atomic():
            schools = {spec["code"]: self._school(spec) for spec in SCHOOLS}
            for school_code, email, first, last, roles in STAFF:
                user = self._user(email, first, last)
                StaffMember.objects.update_or_create(user=user, defaults={"school": schools[school_code], "roles": roles})
            guardians = {}
            for email, first, last, postcode in GUARDIANS:
                user = self._user(email, first, last)
                guardians[email], _ = Guardian.objects.get_or_create(user=user, defaults={"postcode": postcode})
            for school_code, number, first, last, dob, year, roll, guardian_emails in STUDENTS:
                student, _ = Student.objects.get_or_create(
                    school=schools[school_code],
                    student_number=number,
                    defaults=dict(first_name=first, last_name=last, date_of_birth=dob, year_level=year, roll_class=roll),
                )
                for email in guardian_emails:
                    if not GuardianLink.objects.filter(guardian=guardians[email], student=student, revoked_at__isnull=True).exists():
                        GuardianLink.objects.create(guardian=guardians[email], student=student, origin=GuardianLink.Origin.STAFF)
            admin_user = self._user("programs@nsw.example", "Pat", "Programs")
            ProgramAdministrator.objects.get_or_create(user=admin_user)
            superuser = self._user("root@tuckbox.example", "Root", "Admin")
            if not superuser.is_superuser:
                superuser.is_staff = superuser.is_superuser = True
                superuser.save(update_fields=["is_staff", "is_superuser"])
            merchant, _ = Merchant.objects.get_or_create(
                name="Harbourside Canteen",
                defaults=dict(school=schools["harbourside"], abn="51824753556", categories=["canteen"], contact_email="canteen@harbourside.example"),
            )
            if not Terminal.objects.filter(key_prefix=parse_prefix(DEMO_TERMINAL_KEY)).exists():
                terminal_create(merchant=merchant, label="Canteen counter 1", raw_key=DEMO_TERMINAL_KEY)
            MerchantAdministrator.objects.get_or_create(
                user=self._user(MERCHANT_ADMIN, "Morgan", "Manager"), defaults={"merchant": merchant}
            )
        # Each domain seeds its own part (money moves in durable transactions of its own).
        wallet_demo.seed()
        canteen_demo.seed()
        events_demo.seed()
        vouchers_demo.seed()
        live = demo_live.seed(guardian=Guardian.objects.get(user__email=LIVE_GUARDIAN),
                              delay=timedelta(seconds=live_cutoff_seconds))
        self._accept_cards_at_school_merchants()  # last: the live school's canteen too, from the first run
        if not quiet:
            self._print_summary(base_url.rstrip("/"), live)

    def _accept_cards_at_school_merchants(self):
        """Each school's admin lets its own canteen take its students' cards. The swim club (a voucher
        provider) is not enabled anywhere: to it every student card is an unknown card."""
        for merchant in Merchant.objects.filter(school__isnull=False).select_related("school"):
            admin = next((staff.user for staff in StaffMember.objects.filter(school=merchant.school).select_related("user") if staff.has_role("admin")), None)
            card_acceptance_enable(school=merchant.school, merchant=merchant, enabled_by=admin)

    def _school(self, spec) -> School:
        school, _ = School.objects.update_or_create(code=spec["code"], defaults=spec)
        for name, start, end in TERMS_2026 + TERMS_2027:
            Term.objects.get_or_create(school=school, name=name, defaults=dict(starts_on=start, ends_on=end))
        ClosureDay.objects.get_or_create(school=school, date=date(2026, 12, 1), defaults=dict(reason="Staff development day"))
        return school

    def _user(self, email, first, last) -> User:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email=email, password=DEMO_PASSWORD, first_name=first, last_name=last)
        return user

    def _print_summary(self, base_url: str, live: demo_live.LiveCutoff):
        out = self.stdout.write
        out("")
        out(f"Tuckbox demo at {base_url}   API docs: {base_url}/api/docs/   Redoc: {base_url}/api/redoc/")
        out(f"Demo logins (password for all: {DEMO_PASSWORD})")
        out("  guardians:  olivia.parent@example.com (Mia, Leo, Noah)  sam.parent@example.com (Mia, Ava)  priya.parent@example.com (Arjun, Isla)")
        out("  staff:      admin@ / canteen@ / teacher@ / finance@harbourside.example   admin@ / canteen@banksia.example")
        out(f"  programs:   programs@nsw.example      Django admin: root@tuckbox.example at {base_url}/admin/")
        out(f"  terminal:   X-Terminal-Key: {DEMO_TERMINAL_KEY}")
        out(f"  merchant:   {MERCHANT_ADMIN} (Harbourside Canteen's terminals: {base_url}/api/v1/merchant/terminals)")
        out(f"  cards:      {', '.join(f'{number} ({card})' for number, card in wallet_demo.DEMO_CARDS.items())}")
        out(f"  vouchers:   {vouchers_demo.SUMMARY}")
        out("")
        cutoff = f"{live.cutoff_at:%H:%M:%S} {live.school.time_zone} time"
        if live.charged:
            out(f"Live cut-off: {live.student.first_name}'s order for today at {live.school.name} was charged by an earlier cut-off run.")
        else:
            out(f"Live cut-off: {live.school.name}'s canteen closes at {cutoff}, {self._minutes(live)} from now.")
            out(f"  {live.student.first_name}'s order {live.order.receipt_number} (${live.order.total / 100:.2f}) is held now; "
                "the cut-off run (Celery beat, every minute) charges it.")
        out("  watch it:   grep canteen_cutoff_done var/log/stack.log   (or tail -f var/log/stack.log)")
        out(f"  or, signed in as {LIVE_GUARDIAN}: GET {base_url}/api/v1/students/{live.student.pk}/orders"
            " shows payment_state going from held to charged")
        out("")
        out("manage.py against this stack: (set -a; . var/run.env; .venv/bin/python manage.py vouchers_settle --include-today)")
        out("")

    @staticmethod
    def _minutes(live: demo_live.LiveCutoff) -> str:
        seconds = max(int((live.cutoff_at - clock.now()).total_seconds()), 0)
        return f"{seconds // 60} min {seconds % 60} s"
