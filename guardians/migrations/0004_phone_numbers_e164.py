"""Stored phone numbers become E.164, as the API now stores every new one (guardians/contact_details.py).

A number that parses as valid (Australian when written without +country) is rewritten; one that
does not is left exactly as it was, so no contact detail is lost: it shows as stored until its owner
changes it, and the next change must be valid. Blank stays blank. Reversing changes nothing: the
E.164 form is itself a valid way to write the number.
"""

import phonenumbers
from django.db import migrations

REGION = "AU"


def _e164(raw: str) -> str | None:
    try:
        number = phonenumbers.parse(raw.strip(), REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_phones(apps, schema_editor):
    User = apps.get_model("guardians", "User")
    for pk, phone in User.objects.exclude(phone="").values_list("pk", "phone").iterator(chunk_size=2000):
        e164 = _e164(phone)
        if e164 is not None and e164 != phone:
            User.objects.filter(pk=pk).update(phone=e164)


class Migration(migrations.Migration):
    dependencies = [("guardians", "0003_outbound_webhooks")]

    operations = [migrations.RunPython(normalise_phones, migrations.RunPython.noop, elidable=True)]
