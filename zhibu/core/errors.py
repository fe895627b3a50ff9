"""Errors that services raise for a person to read; views and the API turn them into messages."""

from __future__ import annotations


class ServiceError(Exception):
    """A refusal with a Chinese message, optionally tied to a field."""

    def __init__(self, message: str, *, field: str | None = None, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.errors = errors or ({field: [message]} if field else {})


class NotPermitted(ServiceError):
    """The actor may see the object but not change it (403)."""


class NotFound(ServiceError):
    """The object does not exist or lies outside the actor's scope (404: the two are not told apart)."""
