"""The base of every error that carries a machine-readable code to the job record."""

from __future__ import annotations

from typing import Any


class CodedError(Exception):
    """An error with an ``error_code`` and a message a person can read.

    ``str(error)`` is ``"<error_code>: <message>"``: Step Functions keeps only an error's type
    and message, and the code survives the trip inside the message
    (``logic.errors.describe_failure`` splits it again).
    """

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(f"{error_code}: {message}")
        self.error_code = error_code
        self.message = message

    def __reduce__(self) -> tuple[Any, tuple[type[CodedError], str, str], dict[str, Any]]:
        # Errors cross process boundaries (pages run in worker processes); the default
        # pickling would call __init__ with the one formatted string and fail. Rebuilding
        # without the subclass's __init__ lets a subclass order its arguments as it likes
        # (LlmError takes the message first); its other attributes travel as state.
        return (_rebuild, (type(self), self.error_code, self.message), dict(self.__dict__))


def _rebuild(cls: type[CodedError], error_code: str, message: str) -> CodedError:
    error = cls.__new__(cls)
    CodedError.__init__(error, error_code, message)
    return error
