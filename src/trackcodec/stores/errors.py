"""Errors of the event stores and sinks (part of the `TrackcodecError` tree)."""

from __future__ import annotations

from trackcodec.errors import TrackcodecError

__all__ = ["SinkOverloaded", "StoreUnavailable"]


class StoreUnavailable(TrackcodecError):
    """The event store cannot be written to (a ``/readyz`` check fails with it).

    The storage error that says why is chained as ``__cause__``.
    """


class SinkOverloaded(TrackcodecError):
    """A `BatchingSink` queue is full: the event was not accepted.

    Nothing was queued for the event that raised it, so nothing is lost as
    long as the request is not acknowledged (a server answers 503 with
    ``Retry-After``).
    """
