"""Errors a user can fix: the command line prints them as one line, without a traceback."""

import sys


class UserError(Exception):
    """A problem with a parameter or an input file, explained in one line."""


class ParameterError(UserError):
    """A run parameter is malformed or inconsistent; the message names it."""


class ReleaseError(UserError):
    """A release file or table cannot be used; the message names the file."""


def run_command(action, interrupted: str = "interrupted") -> int:
    """Run a command-line action: expected problems print one line, not a traceback.

    Returns the exit code: 0, 1 for a UserError, 130 when interrupted with Ctrl-C."""
    try:
        action()
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return 130
    return 0
