"""The exceptions of the polyhead package.

Every failure the library reports is a :class:`Error`; its subclass names the library's error code
(``polyhead::ErrorCode``) and its message is the library's, naming the task, input, output or
option at fault. Where a built-in exception means the same, the subclass derives from it too, so
that ``except ValueError`` or ``except LookupError`` also catch them.
"""

from __future__ import annotations

from typing import Dict, Optional, Sequence, Type


class Error(Exception):
    """A failure reported by Polyhead (the library or the ``polyhead`` program)."""

    #: The library's name of the error code (``error_code_name()`` in polyhead/status.h).
    code: str = "error"

    @property
    def message(self) -> str:
        """The library's message, as ``str(error)``."""
        return str(self.args[0]) if self.args else ""


class InvalidArgumentError(Error, ValueError):
    """A bad option, name, shape, dtype or size was passed."""

    code = "invalid argument"


class InvalidModelError(Error):
    """The model file failed verification or validation."""

    code = "invalid model"


class UnsupportedError(Error):
    """Valid, but this build or CPU cannot run it (an operator, an element type, f16)."""

    code = "unsupported"


class NotFoundError(Error, LookupError):
    """A named task, input or output does not exist."""

    code = "not found"


class IoError(Error, OSError):
    """A file could not be opened, mapped or written."""

    code = "i/o error"


class OutOfMemoryError(Error, MemoryError):
    """Memory ran out."""

    code = "out of memory"


class InternalError(Error):
    """A bug in Polyhead, or a dependency failed unexpectedly."""

    code = "internal error"


class CommandError(Error):
    """The ``polyhead`` program failed (polyhead.convert, quantize, compare, run_cli).

    The message is the program's standard error; ``returncode`` its exit status (1 runtime
    error, 2 bad command line) and ``command`` the arguments it was run with.
    """

    code = "command failed"

    def __init__(self, message: str, returncode: int = 1,
                 command: Optional[Sequence[str]] = None, stdout: str = "") -> None:
        super().__init__(message)
        self.returncode = returncode
        self.command = list(command or [])
        self.stdout = stdout


# The class the extension raises per error code name (errors.cc).
_BY_CODE: Dict[str, Type[Error]] = {
    cls.code: cls
    for cls in (InvalidArgumentError, InvalidModelError, UnsupportedError, NotFoundError,
                IoError, OutOfMemoryError, InternalError)
}
