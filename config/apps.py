from django.apps import AppConfig


class TuckboxConfig(AppConfig):
    name = "config"
    verbose_name = "Tuckbox configuration"

    def ready(self):
        from config import checks  # noqa: F401 - registers the deploy checks
