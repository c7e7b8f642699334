"""Errors a user can act on.

Every problem caused by input (a file, a spec, a command-line argument) is raised as a
:class:`LeftbehindError` subclass whose message names *what* is wrong, *where* (dataset,
file, row, column) and *how to fix it*. The CLI prints that message alone and exits
non-zero; it never shows a traceback for these.
"""

from __future__ import annotations


class LeftbehindError(Exception):
    """Base class: an error whose message is meant for the user."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None):
        self.message = message
        self.hint = hint
        super().__init__(message if not hint else f"{message}\n  How to fix: {hint}")


class DataError(LeftbehindError):
    """A dataset is missing, corrupt, truncated or not what the catalogue describes."""


class ChecksumError(DataError):
    """A file's sha256 differs from the catalogue's."""


class DownloadError(DataError):
    """A download from the dataset's official URL failed."""


class SpecError(LeftbehindError):
    """An index specification is invalid."""


class UsageError(LeftbehindError):
    """A command-line argument is invalid."""
