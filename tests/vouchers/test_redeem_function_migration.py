"""Undoing the migration that loads vouchers_redeem drops the function, whichever signature the
later migrations gave it (vouchers/0004's reverse; 0007 changed the signature)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_THE_FUNCTION = [("vouchers", "0003_reserve_issued_vouchers")]


def _functions_named(name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_proc WHERE proname = %s", [name])
        return cursor.fetchone()[0]


@pytest.fixture(autouse=True)
def back_to_the_latest_schema():
    """Later tests need every migration since (the database functions among them), as the suite began."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_migrating_back_before_the_function_drops_it_and_forward_loads_it_once():
    assert _functions_named("vouchers_redeem") == 1

    MigrationExecutor(connection).migrate(BEFORE_THE_FUNCTION)
    assert _functions_named("vouchers_redeem") == 0

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert _functions_named("vouchers_redeem") == 1
