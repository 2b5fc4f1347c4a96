"""Errors a user can fix: the pipeline prints them as one line, without a traceback."""


class UserError(Exception):
    """A problem with a parameter or an input file, explained in one line."""


class ParameterError(UserError):
    """A run parameter is malformed or inconsistent; the message names it."""


class ReleaseError(UserError):
    """A release file or table cannot be used; the message names the file."""
