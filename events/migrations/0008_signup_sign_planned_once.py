"""Loads events_signup_sign again, now planning its statements once per connection (plan_cache_mode =
force_generic_plan), as the money functions do (docs/performance.md). The signature is unchanged, so
it is replaced in place; going back leaves it planned once, which changes no answer."""

from pathlib import Path

from django.db import migrations

SQL = Path(__file__).resolve().parent.parent / "sql" / "signup_sign.pg.sql"


class Migration(migrations.Migration):
    dependencies = [("events", "0007_consent_documents")]

    operations = [migrations.RunSQL(sql=SQL.read_text(), reverse_sql=migrations.RunSQL.noop)]
