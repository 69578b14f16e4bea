"""Consent evidence is append-only, enforced by PostgreSQL itself.

Consent records and consent form versions refuse UPDATE and DELETE: a change
to a form is a new version, and a record is never edited (the hash chain would
expose it anyway; this stops it happening by accident or through the admin).
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION events_refuse_consent_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'consent evidence is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER events_consentrecord_append_only
    BEFORE UPDATE OR DELETE ON events_consentrecord
    FOR EACH ROW EXECUTE FUNCTION events_refuse_consent_change();

CREATE TRIGGER events_consentformversion_append_only
    BEFORE UPDATE OR DELETE ON events_consentformversion
    FOR EACH ROW EXECUTE FUNCTION events_refuse_consent_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS events_consentformversion_append_only ON events_consentformversion;
DROP TRIGGER IF EXISTS events_consentrecord_append_only ON events_consentrecord;
DROP FUNCTION IF EXISTS events_refuse_consent_change();
"""


def _run(sql):
    def apply(apps, schema_editor):
        schema_editor.execute(sql, params=None)  # None: no placeholder parsing of the % in RAISE

    return apply


class Migration(migrations.Migration):
    dependencies = [("events", "0001_initial")]

    operations = [migrations.RunPython(_run(FORWARD), _run(BACKWARD))]
