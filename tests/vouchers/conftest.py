"""Shared set-ups for voucher tests: a family, a program, an approved provider with a terminal, a fixed clock."""

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.factories import (
    GuardianLinkFactory,
    MerchantFactory,
    ProgramAdministratorFactory,
    SchoolFactory,
    StudentFactory,
)
from tests.vouchers.factories import approve, make_program

SYDNEY = ZoneInfo("Australia/Sydney")
# Monday 2 March 2026, 10:00 in Sydney (AEDT, UTC+11): term 1, a school day.
START = datetime(2026, 3, 2, 10, 0, tzinfo=SYDNEY)


def sydney(*args) -> datetime:
    return datetime(*args, tzinfo=SYDNEY)


@pytest.fixture
def clock_at():
    """Move the clock (frozen) to an instant; returns the traveller so a test can move it again."""
    travellers = []

    def travel(when: datetime):
        if travellers:
            travellers[-1].stop()
        traveller = time_machine.travel(when, tick=False)
        traveller.start()
        travellers.append(traveller)
        return traveller

    yield travel
    if travellers:
        travellers[-1].stop()


@pytest.fixture(autouse=True)
def _at_start(clock_at):
    clock_at(START)


@dataclass
class VoucherWorld:
    school: object
    student: object
    link: object
    guardian_client: object
    admin: object
    admin_client: object
    program: object
    merchant: object
    approval: object
    terminal_client: object
    client_for: object

    def sign_in_again(self):
        """Access tokens last 15 minutes: after moving the clock further, sign in afresh."""
        self.guardian_client = self.client_for(self.link.guardian.user)
        self.admin_client = self.client_for(self.admin.user)


@pytest.fixture
def world(client_for, terminal_client) -> VoucherWorld:
    school = SchoolFactory(postcode="2000")
    student = StudentFactory(school=school, first_name="Mia", date_of_birth=date(2016, 4, 2))
    link = GuardianLinkFactory(student=student, guardian__postcode="2010")
    admin = ProgramAdministratorFactory()
    program = make_program(admin=admin)
    merchant = MerchantFactory(name="Harbourside Swim Club", categories=["sport"])
    approval = approve(program, merchant)
    return VoucherWorld(
        school=school,
        student=student,
        link=link,
        guardian_client=client_for(link.guardian.user),
        admin=admin,
        admin_client=client_for(admin.user),
        program=program,
        merchant=merchant,
        approval=approval,
        terminal_client=terminal_client(merchant),
        client_for=client_for,
    )


def post(client, url, body=None, key=None, **extra):
    return client.post(url, body if body is not None else {}, format="json", HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex, **extra)


def redeem(client, vouchers, amount, key=None, **fields):
    """POST a redemption; `vouchers` are credential dicts ({"qr": ...} or {"number": ..., "date_of_birth": ...})."""
    return post(client, "/api/v1/terminal/voucher-redemptions", {"vouchers": vouchers, "amount": amount, **fields}, key)


def preview(client, credential):
    return client.post("/api/v1/terminal/vouchers/preview", credential, format="json")


@pytest.fixture
def eager_celery():
    from config.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


__all__ = ["START", "sydney", "post", "redeem", "preview"]
