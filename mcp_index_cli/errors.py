"""Exit codes and the one error type: every command failure is a CliError, caught once in `main`."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INVALID = 3
EXIT_AUTH = 4
EXIT_CONFLICT = 5
EXIT_NETWORK = 6

EXIT_CODES_HELP = """\
exit codes:
  0  success
  1  generic failure
  2  usage error (bad or missing arguments)
  3  validation failed (locally or on the registry); `verify`: the policy is not satisfied
  4  authentication failed (401/403, or not logged in)
  5  conflict: the registry refused the publish (duplicate version, ownership check)
  6  network error: the registry is unreachable
"""


class CliError(Exception):
    """A failure to report as one line on stderr (plus detail lines) and an exit code.

    The base of every error a command raises on purpose; `main` catches it and nothing else
    (a bug is reported as `unexpected ...`). The exit code travels with the error.
    """

    def __init__(self, message: str, *, code: int = EXIT_FAILURE,
                 details: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.details = details
