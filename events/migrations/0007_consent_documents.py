"""A consent's documents (its signature PNG and its PDF), rendered once after signing and stored with
their hashes (events/documents.py), so the sign-up's request renders nothing and a download renders
nothing again. Like the records, they refuse UPDATE; DELETE stays for a leaver's de-identification
(events/leavers.py), which removes the personal facts they show."""

import django.db.models.deletion
from django.db import migrations, models

REFUSE_UPDATE = """
CREATE TRIGGER events_consentdocument_written_once
    BEFORE UPDATE ON events_consentdocument
    FOR EACH ROW EXECUTE FUNCTION events_refuse_consent_change();
"""


class Migration(migrations.Migration):
    dependencies = [("events", "0006_signup_lock_timeout_when_configured")]

    operations = [
        migrations.CreateModel(
            name="ConsentDocument",
            fields=[
                (
                    "record",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        primary_key=True,
                        related_name="document",
                        serialize=False,
                        to="events.consentrecord",
                    ),
                ),
                ("signature_png", models.BinaryField()),
                ("signature_png_sha256", models.CharField(max_length=64)),
                ("pdf", models.BinaryField()),
                ("pdf_sha256", models.CharField(max_length=64)),
                ("rendered_at", models.DateTimeField()),
            ],
        ),
        migrations.RunSQL(
            sql=REFUSE_UPDATE,
            reverse_sql="DROP TRIGGER IF EXISTS events_consentdocument_written_once ON events_consentdocument;",
        ),
    ]
