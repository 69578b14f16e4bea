"""Consent records may be de-identified once, and changed in no other way.

The retention job (guardians/retention.py) blanks a leaver's personal facts: the answers, the
drawn signature (strokes and image), the typed name, the IP address and the user agent. Every
other column, the hashes and the chain links above all, must stay exactly as signed, and a record
already de-identified is never touched again. DELETE stays refused, and so does any other UPDATE;
consent form versions stay fully append-only.
"""

from django.db import migrations, models

FORWARD = """
CREATE OR REPLACE FUNCTION events_consentrecord_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND OLD.deidentified_at IS NULL AND NEW.deidentified_at IS NOT NULL
       AND NEW.answers = '{}'::jsonb AND NEW.signature_strokes = '[]'::jsonb
       AND length(NEW.signature_png) = 0 AND NEW.typed_name = '' AND NEW.ip_address = '' AND NEW.user_agent = ''
       AND (NEW.id, NEW.school_id, NEW.sequence, NEW.event_id, NEW.signup_id, NEW.guardian_id, NEW.link_id,
            NEW.student_id, NEW.form_version_id, NEW.form_hash, NEW.signature_png_sha256, NEW.statement,
            NEW.signed_at, NEW.previous_hash, NEW.record_hash, NEW.created_at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.school_id, OLD.sequence, OLD.event_id, OLD.signup_id, OLD.guardian_id, OLD.link_id,
            OLD.student_id, OLD.form_version_id, OLD.form_hash, OLD.signature_png_sha256, OLD.statement,
            OLD.signed_at, OLD.previous_hash, OLD.record_hash, OLD.created_at)
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'consent evidence is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS events_consentrecord_append_only ON events_consentrecord;
CREATE TRIGGER events_consentrecord_append_only
    BEFORE UPDATE OR DELETE ON events_consentrecord
    FOR EACH ROW EXECUTE FUNCTION events_consentrecord_guard();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS events_consentrecord_append_only ON events_consentrecord;
CREATE TRIGGER events_consentrecord_append_only
    BEFORE UPDATE OR DELETE ON events_consentrecord
    FOR EACH ROW EXECUTE FUNCTION events_refuse_consent_change();
DROP FUNCTION IF EXISTS events_consentrecord_guard();
"""


def _run(sql):
    def apply(apps, schema_editor):
        schema_editor.execute(sql, params=None)  # None: no placeholder parsing of the % in RAISE

    return apply


class Migration(migrations.Migration):
    dependencies = [("events", "0002_consent_append_only")]

    operations = [
        migrations.AddField(model_name="consentrecord", name="deidentified_at", field=models.DateTimeField(blank=True, null=True)),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]
