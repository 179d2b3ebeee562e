"""One line on stderr and an exit code, never a traceback, for what a user can fix."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from service.settings_checks import SettingsError

if TYPE_CHECKING:
    from collections.abc import Callable

USAGE = 2  # argparse's exit code for bad arguments; bad settings are the same kind
FAILED = 1
INTERRUPTED = 130  # 128 + SIGINT, as a shell reports it


class CommandError(Exception):
    """Printed as `jobstream: <message>`; the process exits with `exit_code`."""

    def __init__(self, message: str, exit_code: int = FAILED) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def reported(run: Callable[[], int]) -> int:
    """`run()`'s exit code; a CommandError or bad setting becomes one line on stderr."""
    try:
        return run()
    except SettingsError as error:
        return _report(str(error), USAGE)
    except CommandError as error:
        return _report(str(error), error.exit_code)
    except KeyboardInterrupt:
        return INTERRUPTED


def _report(message: str, exit_code: int) -> int:
    line = " ".join(message.split())  # one line, whatever the message holds
    sys.stderr.write(f"jobstream: {line}\n")
    sys.stderr.flush()
    return exit_code
