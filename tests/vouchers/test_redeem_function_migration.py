"""Undoing the migration that loads vouchers_redeem drops the function, whichever signature the
later migrations gave it (vouchers/0004's reverse; 0007 changed the signature)."""

import pytest
from django.db import connection

from tests.migrations import migrate, migrate_to_latest

BEFORE_THE_FUNCTION = [("vouchers", "0003_reserve_issued_vouchers")]
pytestmark = pytest.mark.usefixtures("back_to_the_latest_schema")


def _functions_named(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = %s", [name])
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_migrating_back_before_the_function_drops_it_and_forward_loads_it_once():
    assert _functions_named("vouchers_redeem") == 1

    migrate(BEFORE_THE_FUNCTION)
    assert _functions_named("vouchers_redeem") == 0

    migrate_to_latest()
    assert _functions_named("vouchers_redeem") == 1
