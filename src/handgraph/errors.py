"""The one exception type that reaches users as a one-line message instead of a traceback."""


class HandgraphError(Exception):
    """A problem with the user's input (a file, an argument, a config), stated so they can fix it.

    The message names the file, the line or field, and what was expected. The command line prints it
    as one line and exits non-zero; library callers can catch it like any exception.
    """
