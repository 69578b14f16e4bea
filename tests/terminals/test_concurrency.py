"""Terminal bookkeeping and rotation under concurrent requests, on PostgreSQL."""

import pytest

from tests.concurrency import run_concurrently
from tests.factories import MerchantAdministratorFactory
from wallet.models import Terminal
from wallet.terminal_keys import terminal_create, terminal_for_key, terminal_key_rotate, terminal_use_note

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 12


def test_many_requests_in_the_same_minute_write_last_used_at_once():
    terminal, raw_key = terminal_create(merchant=MerchantAdministratorFactory().merchant, label="Busy till")

    # Each thread has read the row (last_used_at still null) before any of them writes.
    copies = [Terminal.objects.get(pk=terminal.pk) for _ in range(THREADS)]
    wrote = run_concurrently(lambda i: terminal_use_note(copies[i]), THREADS)

    assert wrote.count(True) == 1
    assert Terminal.objects.get(pk=terminal.pk).last_used_at is not None
    # And every request authenticated, none waiting on another's bookkeeping.
    assert all(found.pk == terminal.pk for found in run_concurrently(lambda i: terminal_for_key(raw_key), THREADS))


def test_concurrent_rotations_leave_exactly_one_working_key():
    admin = MerchantAdministratorFactory()
    terminal, first_key = terminal_create(merchant=admin.merchant, label="Counter")

    keys = [key for _, key in run_concurrently(lambda i: terminal_key_rotate(terminal=terminal, by=admin), THREADS)]

    assert len(set(keys)) == THREADS
    working = [key for key in [first_key, *keys] if terminal_for_key(key) is not None]
    assert len(working) == 1
    assert Terminal.objects.filter(merchant=admin.merchant).count() == 1
