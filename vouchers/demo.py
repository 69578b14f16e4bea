"""Voucher demo data for `make run`: four programs, an approved provider with a terminal, a means test.

Safe to run again: everything is found by a natural key before it is created. Called
by `demo_seed` after the people exist, outside its transaction (program creation
opens durable transactions of its own).
"""

from datetime import date

from core import clock
from guardians.models import ProgramAdministrator, User
from vouchers import services
from vouchers.models import ApprovalStatus, Attestation, AttestationKind, AttestationSource, Program, ProviderApproval
from wallet.models import Merchant, Terminal
from wallet.terminal_keys import parse_prefix, terminal_create

# A fixed key so the printed key stays valid across runs of the demo. Never used outside it.
DEMO_PROVIDER_TERMINAL_KEY = "tbx_term_demo0002_D3moSwimClubProviderKeyN0tForProduction"
ADMIN_EMAIL = "programs@nsw.example"
CHILD_AGES = dict(min_age_months=54, max_age_months=227)  # 4 1/2 up to (not including) 19


def _programs(year_start: date) -> list[tuple[dict, list[services.WindowSpec]]]:
    return [
        (
            dict(
                name="Active Kids",
                code="active-kids",
                description="$100 a child a year towards sport and active recreation; one provider, the rest is forfeited.",
                beneficiary_kind="child",
                face_value=10000,
                starts_on=year_start,
                **CHILD_AGES,
                requires_enrolment=True,
                requires_residency=True,
                categories=["sport"],
                use_rule="single_use",
                one_provider=True,
                once_per_term=True,
                expiry_rule="end_of_year",
            ),
            [],
        ),
        (
            dict(
                name="Creative Kids",
                code="creative-kids",
                description="$100 a child a year towards creative and cultural activities; one provider.",
                beneficiary_kind="child",
                face_value=10000,
                starts_on=year_start,
                **CHILD_AGES,
                requires_enrolment=True,
                requires_residency=True,
                categories=["creative", "music"],
                use_rule="single_use",
                one_provider=True,
                expiry_rule="end_of_year",
            ),
            [],
        ),
        (
            dict(
                name="Active and Creative Kids",
                code="active-creative-kids",
                description="Two $50 vouchers a child a year for families receiving Family Tax Benefit: one from "
                "1 February, one from 15 July. Both can pay one bill.",
                beneficiary_kind="child",
                face_value=5000,
                starts_on=year_start,
                **CHILD_AGES,
                requires_enrolment=True,
                requires_residency=True,
                requires_means_test=True,
                categories=["sport", "creative", "music"],
                use_rule="single_use",
                stackable=True,
                expiry_rule="end_of_year",
            ),
            [
                services.WindowSpec(name="Voucher 1", opens_month=2, opens_day=1, expiry_rule="end_of_year"),
                services.WindowSpec(name="Voucher 2", opens_month=7, opens_day=15, expiry_rule="months_after_issue", expiry_period=12),
            ],
        ),
        (
            dict(
                name="Dine & Discover",
                code="dine-and-discover",
                description="Four $25 vouchers for adults: two for dining, two for entertainment, Monday to Thursday.",
                beneficiary_kind="adult",
                face_value=2500,
                starts_on=year_start,
                min_age_months=216,
                requires_residency=True,
                categories=["dining", "entertainment"],
                allowed_weekdays=[0, 1, 2, 3],
                use_rule="single_use",
                stackable=True,
                expiry_rule="months_after_issue",
                expiry_period=6,
            ),
            [
                services.WindowSpec(name="Dine", voucher_count=2, categories=["dining"]),
                services.WindowSpec(name="Discover", voucher_count=2, categories=["entertainment"]),
            ],
        ),
    ]


def seed() -> None:
    admin_user = User.objects.get(email=ADMIN_EMAIL)
    admin, _ = ProgramAdministrator.objects.get_or_create(user=admin_user)
    year_start = date(clock.local_today("Australia/Sydney").year, 1, 1)
    programs = {}
    for fields, windows in _programs(year_start):
        program = Program.objects.filter(code=fields["code"]).first()
        if program is None:
            program = services.program_create(created_by=admin, windows=windows, **fields)
        programs[program.code] = program

    club, _ = Merchant.objects.get_or_create(
        name="Harbourside Swim Club",
        defaults=dict(abn="51824753556", categories=["sport"], contact_email="swim@harbourside.example"),
    )
    if not Terminal.objects.filter(key_prefix=parse_prefix(DEMO_PROVIDER_TERMINAL_KEY)).exists():
        terminal_create(merchant=club, label="Pool desk", raw_key=DEMO_PROVIDER_TERMINAL_KEY)
    for code in ("active-kids", "active-creative-kids"):
        ProviderApproval.objects.get_or_create(
            program=programs[code],
            merchant=club,
            status=ApprovalStatus.APPROVED,
            defaults=dict(
                categories=["sport"],
                abn="51824753556",
                insurance_expires_on=date(year_start.year + 1, 6, 30),
                wwcc_expires_on=date(year_start.year + 2, 1, 31),
                decided_by=admin_user,
                decided_at=clock.now(),
            ),
        )

    # The Nguyen family receives Family Tax Benefit A: Mia and Leo may have the 2024-style vouchers.
    olivia = User.objects.filter(email="olivia.parent@example.com").first()
    if olivia is not None:
        Attestation.objects.get_or_create(
            kind=AttestationKind.MEANS_TEST,
            user=olivia,
            source=AttestationSource.ADMINISTRATOR,
            evidence="Family Tax Benefit A (demo)",
            defaults=dict(attested_by=admin_user, valid_from=year_start, valid_until=date(year_start.year, 12, 31)),
        )


INDENT = "\n" + " " * 14  # lines up under demo_seed's "  vouchers:   "
SUMMARY = INDENT.join(
    [
        f"Active Kids, Creative Kids, Active and Creative Kids, Dine & Discover (administered by {ADMIN_EMAIL})",
        f"provider Harbourside Swim Club, X-Terminal-Key: {DEMO_PROVIDER_TERMINAL_KEY}",
        "settle now (the beat settles yesterday's each night): see manage.py below",
    ]
)
