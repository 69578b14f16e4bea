"""What the two single-page apps are, for the views: their built index.html and web manifest.

The built files are committed under web/static/web/ (WhiteNoise serves the assets), so serving
them needs nothing but Python; tests/browser/test_build.py proves they are what the sources build.
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

BUILT = Path(__file__).resolve().parent / "static" / "web"


@dataclass(frozen=True)
class Shell:
    slug: str
    name: str
    short_name: str
    description: str
    orientation: str
    camera: bool  # the terminal scans QR codes; the guardian app never needs the camera

    @property
    def scope(self) -> str:
        return f"/{self.slug}/"

    def manifest(self) -> dict:
        return {
            "name": self.name,
            "short_name": self.short_name,
            "description": self.description,
            "start_url": self.scope,
            "scope": self.scope,
            "display": "standalone",
            "orientation": self.orientation,
            "background_color": "#f7f7f5",
            "theme_color": "#14532d",
            "icons": [{"src": "/static/web/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
        }


SHELLS = {
    "terminal": Shell("terminal", "Tuckbox terminal", "Terminal", "Charge student cards and redeem vouchers.", "any", camera=True),
    "app": Shell("app", "Tuckbox", "Tuckbox", "Your children's cards, canteen orders, events and vouchers.", "portrait", camera=False),
}


@cache
def index_html(slug: str) -> bytes:
    return (BUILT / slug / "index.html").read_bytes()
