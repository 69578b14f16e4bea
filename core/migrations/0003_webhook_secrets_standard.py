"""Webhook secrets in the Standard Webhooks form: `whsec_` + base64 of the key bytes.

Before, a secret was `whsec_` + URL-safe text and the whole string's UTF-8 bytes were the HMAC
key. Each becomes `whsec_` + base64 of those same bytes, so the key is unchanged and an
integrator can derive the new form from the secret they hold (docs/api.md, Webhooks). Secrets
already in the standard form are left alone; reversing restores the old text.
"""

import base64
import binascii

from django.db import migrations

PREFIX = "whsec_"


def _is_standard(secret: str) -> bool:
    try:
        key = base64.b64decode(secret[len(PREFIX) :], validate=True)
    except binascii.Error:
        return False
    return secret.startswith(PREFIX) and 24 <= len(key) <= 64


def _standard(secret: str) -> str:
    return secret if not secret or _is_standard(secret) else PREFIX + base64.b64encode(secret.encode()).decode()


def _legacy(secret: str) -> str:
    if not secret or not _is_standard(secret):
        return secret
    key = base64.b64decode(secret[len(PREFIX) :])
    return key.decode() if key.startswith(PREFIX.encode()) else secret


def _convert(apps, convert) -> None:
    WebhookSubscription = apps.get_model("core", "WebhookSubscription")
    for subscription in WebhookSubscription.objects.select_for_update().order_by("pk"):
        secret, previous = convert(subscription.secret), convert(subscription.previous_secret)
        if (secret, previous) != (subscription.secret, subscription.previous_secret):
            WebhookSubscription.objects.filter(pk=subscription.pk).update(secret=secret, previous_secret=previous)


def forwards(apps, schema_editor):
    _convert(apps, _standard)


def backwards(apps, schema_editor):
    _convert(apps, _legacy)


class Migration(migrations.Migration):
    dependencies = [("core", "0002_kernel_models_move")]

    operations = [migrations.RunPython(forwards, backwards)]
