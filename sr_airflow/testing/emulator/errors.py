"""The one exception the emulator raises for a statement that StarRocks would refuse."""

from __future__ import annotations

PARSE_ERROR = 1064
ACCESS_DENIED = 5203


class EmulatorError(Exception):
    """A statement error sent to the client as `ERROR <code> (HY000): <message>`."""

    def __init__(self, message: str, code: int = PARSE_ERROR):
        super().__init__(message)
        self.message = message
        self.code = code


def analyzing_error(detail: str) -> EmulatorError:
    """An analyzer error in StarRocks' wording."""
    return EmulatorError(f"Getting analyzing error. Detail message: {detail}.")
