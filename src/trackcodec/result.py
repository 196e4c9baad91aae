"""`TrackingResult`: what a decoded tracking URL tells."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict

__all__ = ["TrackingKind", "TrackingResult"]

M = TypeVar("M")

TrackingKind = Literal["open", "click"]


# BaseModel's slots, set through their descriptors: what object.__setattr__
# does, without looking the names up (a decoded URL is on the hot path).
_new = object.__new__
_set_dict = object.__setattr__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


class TrackingResult(BaseModel, Generic[M]):
    """The outcome of decoding an open or click tracking URL.

    Attributes:
        kind: ``"open"`` or ``"click"``.
        tracked_url: The link's real target. Click results have passed the
            redirect policy; open results carry whatever the token holds,
            unchecked (an open endpoint sends nobody anywhere).
        metadata: The token's metadata merged over the default metadata: a
            dict, or the tracker's metadata model.
        webhook_url: The webhook to notify, if any.
        request_data: What the caller attached about the request (user agent, IP...).
        timestamp: When the URL was decoded (Unix seconds, UTC).
        issued_at: When the token was minted, if it carries the time.
        serializer: Serializer of the token (``"json"`` for legacy tokens).
        cipher: Cipher of the token (``"fernet"`` or ``"plain"`` for legacy tokens).
        key_id: Key id of the token (``None`` for legacy tokens).
        authenticated: Whether the token's integrity was verified.
        legacy: Whether the token was minted by pytracking.
    """

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True, ser_json_bytes="base64")

    kind: TrackingKind
    tracked_url: str | None = None
    metadata: M
    webhook_url: str | None = None
    request_data: Any = None
    timestamp: int
    issued_at: int | None = None
    serializer: str | None = None
    cipher: str | None = None
    key_id: int | None = None
    authenticated: bool = True
    legacy: bool = False

    @property
    def is_open_tracking(self) -> bool:
        """Whether this is an open (pixel) event."""
        return self.kind == "open"

    @property
    def is_click_tracking(self) -> bool:
        """Whether this is a click event."""
        return self.kind == "click"

    @classmethod
    def _from_trusted(cls, values: dict[str, Any]) -> Any:
        """Build from values the tracker has already checked, without revalidating.

        What ``model_construct`` does when every field is given, minus its
        per-field bookkeeping: a decoded URL is on the hot path.
        ``tests/test_core_boundaries.py::test_result_fast_construct`` keeps it equal to
        validated construction, for every field.
        """
        result = _new(cls)
        _set_dict(result, "__dict__", values)
        _set_fields_set(result, set(values))
        _set_extra(result, None)
        _set_private(result, None)
        return result

    def to_json_dict(self) -> dict[str, Any]:
        """Return a dict that ``json.dumps`` accepts (models and dates converted)."""
        data = self.model_dump(mode="json")
        data["is_open_tracking"] = self.is_open_tracking
        data["is_click_tracking"] = self.is_click_tracking
        return data
