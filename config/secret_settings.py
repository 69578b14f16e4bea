"""Secrets read at settings load, and the refusal to run production on a bad one.

A secret comes from its environment variable, or from the file its `<NAME>_FILE` variable names
(container secrets). With DEBUG off, settings refuse to load (ImproperlyConfigured, naming the
variables and never their values) when a secret is missing, too short, or published: written in
any text file of this repository (settings defaults, .env.example, docs, tests), which anyone can
read. With DEBUG on, a missing secret takes its development default, which is published.

Stdlib and Django only: settings import it before anything is configured.
"""

import base64
import binascii
import os
from collections.abc import Callable
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

REPOSITORY = Path(__file__).resolve().parent.parent
GENERATE_HINT = "`python -m config.dev_secrets --print` prints a fresh set (docs/operations.md, Secrets)"

# Every placeholder in .env.example and the docs says so, and is refused even where those files are not shipped.
PLACEHOLDER_MARK = "change-me"
# Values that were published in this repository's history and are no longer in its files.
PUBLISHED_IN_HISTORY = ("bench-only-secret-key-not-for-production-0123456789abcdef", "secret")

_TEXT_SUFFIXES = {".py", ".md", ".txt", ".toml", ".yaml", ".yml", ".json", ".cfg", ".ini", ".sh", ".example", ".html", ".sql"}
_TEXT_NAMES = {"Makefile", "Procfile", "Dockerfile"}
# Never published: local state, installed packages, and the operator's own .env (see .gitignore).
_SKIPPED_DIRS = {".git", ".venv", "venv", "var", "node_modules", "__pycache__", ".pytest_cache", ".hypothesis"}
_SKIPPED_FILES = {".env"}
_MAX_FILE_BYTES = 2_000_000


def load_env_file(path: Path, environ=os.environ) -> set[str]:
    """KEY=VALUE lines of `path` into `environ` where neither KEY nor KEY_FILE is set; the keys taken."""
    if not path.is_file():
        return set()
    taken = set()
    for line in path.read_text().splitlines():
        key, sep, value = line.strip().partition("=")
        if not sep or key.startswith("#") or key in environ or f"{key}_FILE" in environ:
            continue
        environ[key] = value
        taken.add(key)
    return taken


def _repository_texts(root: Path, skipped: set[Path]):
    for directory, subdirectories, files in os.walk(root):
        subdirectories[:] = [name for name in subdirectories if name not in _SKIPPED_DIRS]
        for name in files:
            path = Path(directory, name)
            if name in _SKIPPED_FILES or path in skipped:
                continue
            if path.suffix not in _TEXT_SUFFIXES and name not in _TEXT_NAMES:
                continue
            try:
                if path.stat().st_size <= _MAX_FILE_BYTES:
                    yield path, path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue


class Secrets:
    """Reads secrets and collects what is wrong with them; `refuse_unsafe()` raises once for all."""

    def __init__(self, *, debug: bool, environ=os.environ, repository: Path = REPOSITORY, skipped_files=()):
        self.debug = debug
        self.environ = environ
        self.repository = repository
        self.skipped = {Path(path).resolve() for path in skipped_files}
        self.problems: list[str] = []
        self._published_candidates: list[tuple[str, str]] = []

    def _raw(self, name: str) -> str | None:
        """The value, "" when unset, or None when what is set cannot be used (the problem is recorded)."""
        value = self.environ.get(name, "")
        file_name = self.environ.get(f"{name}_FILE", "")
        if value and file_name:
            self.problems.append(f"{name} and {name}_FILE are both set (set one)")
            return None
        if file_name:
            path = Path(file_name)
            self.skipped.add(path.resolve())
            try:
                return path.read_text().strip()
            except OSError as error:
                self.problems.append(f"{name}_FILE names a file that cannot be read ({error.strerror})")
                return None
        return value.strip()

    def _check(self, label: str, value: str, min_length: int) -> None:
        if len(value) < min_length or len(set(value)) < 5:
            self.problems.append(f"{label} is too short (at least {min_length} random characters)")
        elif PLACEHOLDER_MARK in value.lower():
            self.problems.append(f"{label} is a placeholder")
        else:
            self._published_candidates.append((label, value))

    def one(self, name: str, *, min_length: int, dev_default: str) -> str:
        value = self._raw(name)
        if not value:
            if value == "" and not self.debug:
                self.problems.append(f"{name} is not set")
            return dev_default
        if not self.debug:
            self._check(name, value, min_length)
        return value

    def many(self, name: str, *, min_length: int) -> list[str]:
        """A comma-separated list (commas or lines in a file); empty is allowed."""
        values = [item.strip() for item in (self._raw(name) or "").replace("\n", ",").split(",") if item.strip()]
        if not self.debug:
            for index, value in enumerate(values):
                self._check(f"{name} (item {index + 1})", value, min_length)
        return values

    def spec(self, name: str, *, dev_default: str, items: Callable[[str], list[tuple[str, str]]]) -> str:
        """A secret whose parts are validated by `items`: (label, published-checkable value) pairs,
        raising ValueError with a message that never contains a value."""
        value = self._raw(name)
        if not value:
            if value == "" and not self.debug:
                self.problems.append(f"{name} is not set")
            return dev_default
        value = value.replace("\n", ",")
        if not self.debug:
            try:
                self._published_candidates.extend((f"{name} ({label})", part) for label, part in items(value))
            except ValueError as error:
                self.problems.append(f"{name}: {error}")
        return value

    def not_published(self, label: str, value: str) -> None:
        """A secret whose length is not ours to judge (a database password), still never a published one."""
        if not value or self.debug:
            return
        if PLACEHOLDER_MARK in value.lower():
            self.problems.append(f"{label} is a placeholder")
        else:
            self._published_candidates.append((label, value))

    def _published(self) -> list[str]:
        found = {label: "" for label, value in self._published_candidates if value in PUBLISHED_IN_HISTORY}
        # Shorter values occur in the files by chance (a password "tuckbox"); they are compared whole above.
        pending = {label: value for label, value in self._published_candidates if label not in found and len(value) >= 16}
        if pending:
            for path, text in _repository_texts(self.repository, self.skipped):
                for label, value in list(pending.items()):
                    if value in text:
                        found[label] = f" (it appears in {path.relative_to(self.repository)})"
                        del pending[label]
                if not pending:
                    break
        return [f"{label} is a published value{found[label]}" for label, _ in self._published_candidates if label in found]

    def refuse_unsafe(self) -> None:
        problems = self.problems + self._published()
        if problems:
            raise ImproperlyConfigured(
                f"Refusing to start{'' if self.debug else ' with DEBUG off'}: " + "; ".join(problems) + f". Set real secrets; {GENERATE_HINT}."
            )


def ed25519_seed_items(spec: str) -> list[tuple[str, str]]:
    """`kid:<base64url 32-byte seed>,...` (VOUCHER_SIGNING_KEYS): each seed, labelled by its kid."""
    items = []
    for entry in (part.strip() for part in spec.split(",")):
        if not entry:
            continue
        kid, sep, seed = entry.partition(":")
        if not sep or not kid:
            raise ValueError("entries are 'kid:<base64url 32-byte seed>'")
        try:
            raw = base64.urlsafe_b64decode(seed + "=" * (-len(seed) % 4))
        except (binascii.Error, ValueError):
            raw = b""
        if len(raw) != 32 or len(set(raw)) < 8:
            raise ValueError(f"the key {kid!r} is not a random 32-byte seed in base64url")
        items.append((f"key {kid!r}", seed))
    if not items:
        raise ValueError("no key is given")
    return items
