"""Deploy checks of our own (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def throwaway_secrets_unused(app_configs, **kwargs):
    """A production host must not run on a local stack's file of throwaway secrets: other hosts have
    other keys (and will not verify this one's tokens), and the file is not backed up with the keys."""
    taken = sorted(settings.SECRETS_FROM_DEV_FILE)
    if not taken:
        return []
    return [
        Warning(
            f"{', '.join(taken)} came from the throwaway file {settings.DEV_SECRETS_FILE}.",
            hint="Set them in the environment (or <NAME>_FILE) and remove the file, or set DEV_SECRETS_FILE empty.",
            id="tuckbox.W001",
        )
    ]
