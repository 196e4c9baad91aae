"""`ClosingContext`: ``with`` support for the objects that have a ``close()``."""

from __future__ import annotations

from types import TracebackType
from typing import TypeVar

__all__ = ["ClosingContext"]

_C = TypeVar("_C", bound="ClosingContext")


class ClosingContext:
    """Mixin: ``with obj:`` gives ``obj`` and calls ``obj.close()`` on the way out."""

    __slots__ = ()

    def close(self) -> None:
        """Release what the object holds (the class that mixes this in defines it)."""
        raise NotImplementedError

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
