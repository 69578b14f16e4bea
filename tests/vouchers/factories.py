"""Building voucher data: programs through the service (so each has its funding account and
windows), approvals, and vouchers issued the way an application issues them."""

import itertools
from datetime import date

import factory
from factory.django import DjangoModelFactory

from core import clock
from tests.factories import GuardianLinkFactory, MerchantFactory, ProgramAdministratorFactory
from vouchers import eligibility, issuing, services, tokens
from vouchers.models import ApprovalStatus, Attestation, AttestationKind, AttestationSource, ProviderApproval

ACTIVE_KIDS = dict(
    name="Active Kids",
    code="active-kids",
    beneficiary_kind="child",
    face_value=10000,
    starts_on=date(2026, 1, 1),
    min_age_months=54,
    max_age_months=227,
    categories=["sport"],
    use_rule="partial",
    expiry_rule="end_of_year",
)


_codes = itertools.count(1)


def make_program(*, admin=None, windows=None, vouchers_per_period=1, **overrides):
    fields = {**ACTIVE_KIDS, **overrides}
    if "code" not in overrides:
        fields["code"] = f"{fields['code']}-{next(_codes)}"
    return services.program_create(
        created_by=admin or ProgramAdministratorFactory(),
        windows=windows or [],
        vouchers_per_period=vouchers_per_period,
        **fields,
    )


def program_money(program) -> int:
    """The program's balance with what it reserved for its vouchers counted in: its funding account
    plus every voucher's reserve (vouchers/reserves.py). Minus what it has paid merchants."""
    from django.db.models import Sum

    from wallet.models import Account

    reserved = Account.objects.filter(voucher_reserve__program=program).aggregate(total=Sum("balance"))["total"] or 0
    program.funding_account.refresh_from_db()
    return program.funding_account.balance + reserved


def window(name, **fields):
    return services.WindowSpec(name=name, **fields)


class ProviderApprovalFactory(DjangoModelFactory):
    """An approved provider with current evidence."""

    class Meta:
        model = ProviderApproval

    merchant = factory.SubFactory(MerchantFactory, categories=["sport", "creative"])
    categories = factory.LazyAttribute(lambda o: list(o.program.categories))
    status = ApprovalStatus.APPROVED
    abn = "51824753556"
    insurance_expires_on = date(2030, 6, 30)
    wwcc_expires_on = date(2030, 6, 30)


def approve(program, merchant, **fields):
    return ProviderApprovalFactory(program=program, merchant=merchant, **fields)


def issue(program, *, link=None, student=None, **link_fields):
    """Apply as a linked guardian would; returns the vouchers (the first one is usually all there is)."""
    if link is None:
        link = GuardianLinkFactory(**({"student": student} if student else {}), **link_fields)
    return issuing.voucher_apply(program=program, applicant=link.guardian.user, beneficiary=eligibility.child(link.student, postcode=link.guardian.postcode))


def attest(kind, *, student=None, user=None, by=None, valid_until=None):
    return Attestation.objects.create(
        kind=kind,
        student=student,
        user=user,
        source=AttestationSource.ADMINISTRATOR,
        attested_by=by or ProgramAdministratorFactory().user,
        valid_from=date(2020, 1, 1),
        valid_until=valid_until,
    )


def app_qr(voucher, *, at=None):
    return tokens.app_token(number=voucher.number, secret_hex=voucher.totp_secret, now=at or clock.now())


def printed_qr(voucher):
    return tokens.printed_token(number=voucher.number)


def settle_today(program, *, started_by: str = "test"):
    """Settle the program's redemptions up to now, dated today (as `vouchers_settle --include-today`): its run."""
    from vouchers.settlement_runs import settlement_period, settlement_run_execute

    run, _ = settlement_run_execute(program=program, period=settlement_period(program=program, include_today=True), started_by=started_by)
    return run


__all__ = ["AttestationKind", "approve", "attest", "issue", "make_program", "program_money", "window", "app_qr", "printed_qr", "settle_today"]
