"""Wallet domain errors."""

from guardians.errors import DomainError, NotFoundError


class TerminalNotFound(NotFoundError):
    code = "terminal_not_found"
    default_message = "No such terminal."


class InvalidAbn(DomainError):
    code = "invalid_abn"
    default_message = "That is not a valid Australian Business Number."
