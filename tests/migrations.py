"""Moving the test database through its migrations, for the tests of a migration itself."""

from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def migrate(targets) -> None:
    """Migrate to `targets` ([(app, migration)]), forward or back."""
    MigrationExecutor(connection).migrate(targets)


def migrate_to_latest() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
