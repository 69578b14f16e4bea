from django.apps import AppConfig


class GuardiansConfig(AppConfig):
    name = "guardians"
    verbose_name = "People and links"
