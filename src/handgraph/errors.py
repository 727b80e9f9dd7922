"""The one exception type that reaches users as a one-line message instead of a traceback."""

from collections.abc import Iterator
from contextlib import contextmanager


class HandgraphError(Exception):
    """A problem with the user's input (a file, an argument, a config), stated so they can fix it.

    The message names the file, the line or field, and what was expected. The command line prints it
    as one line and exits non-zero; library callers can catch it like any exception.
    """


@contextmanager
def about(where: str) -> Iterator[None]:
    """Name ``where`` (a file, a field of it) before the message of any HandgraphError raised inside: a config
    error found while reading a checkpoint says which checkpoint."""
    try:
        yield
    except HandgraphError as error:
        raise HandgraphError(f"{where}: {error}") from None
