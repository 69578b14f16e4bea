from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Kernel (after-commit jobs)"

    def ready(self):
        from core import relay  # noqa: F401 - connects the worker-start relay
