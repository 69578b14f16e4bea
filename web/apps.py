from django.apps import AppConfig


class WebConfig(AppConfig):
    """The two reference apps' shells (/terminal/, /app/); their built assets are static files."""

    name = "web"
