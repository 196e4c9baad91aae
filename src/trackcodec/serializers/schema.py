"""Positional encoding derived from a pydantic model (``trackcodec[msgpack]``).

Field order is the wire order, so field names are never sent: a payload
``{"customer_id": 123456, "campaign": "fall-2026"}`` travels as the two values
only. The top level is a plain sequence of msgpack values (not even an array
header); nested models are msgpack arrays. Trailing fields that the payload
does not set are not sent at all, which is what keeps tokens compatible when
the model grows:

- add new fields **at the end**, with a default: old tokens still decode;
- never reorder, rename to another position, or remove fields: the position
  is the name.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Mapping
from typing import Any, Union

from pydantic import BaseModel

from trackcodec._deps import require
from trackcodec.serializers.msgpack import (
    TIMESTAMP_HEADERS,
    default,
    ext_hook,
    refuse_timestamps,
)

__all__ = ["SchemaSerializer"]

_MISSING: Any = object()


# A field left out in the middle of a record travels as this empty extension
# value (3 bytes), or as nil when its default is None (1 byte); decoding leaves
# it out, so that the model applies its own default, factories included.
_UNSET_EXT = 2


class _Unset:
    __slots__ = ()


_UNSET = _Unset()


def _ext_hook(code: int, data: bytes) -> Any:
    if code == _UNSET_EXT and not data:
        return _UNSET
    return ext_hook(code, data)


class _Field:
    __slots__ = ("default_is_none", "name", "nested", "required")

    def __init__(
        self, name: str, nested: _Plan | None, required: bool, default_is_none: bool
    ) -> None:
        self.name = name
        self.nested = nested
        self.required = required
        self.default_is_none = default_is_none


class _Plan:
    """The fields of one model, in wire order, with nested plans for sub-models."""

    __slots__ = ("fields", "model", "names")

    def __init__(self, model: type[BaseModel], seen: tuple[type[BaseModel], ...] = ()) -> None:
        if model in seen:
            raise TypeError(f"{model.__name__} is recursive; a positional schema cannot be")
        self.model = model
        self.fields: list[_Field] = []
        for name, info in model.model_fields.items():
            sub = _nested_model(info.annotation)
            nested = _Plan(sub, (*seen, model)) if sub is not None else None
            required = info.is_required()
            default_is_none = not required and info.default_factory is None and info.default is None
            self.fields.append(_Field(info.alias or name, nested, required, default_is_none))
        self.names = frozenset(f.name for f in self.fields)

    def to_list(self, obj: Mapping[str, Any], unset: Any) -> list[Any]:
        unknown = obj.keys() - self.names
        if unknown:
            raise ValueError(
                f"{self.model.__name__} has no field {sorted(unknown)[0]!r}; "
                "a positional schema cannot carry unknown keys"
            )
        values: list[Any] = []
        last = 0
        for f in self.fields:
            value = obj.get(f.name, _MISSING)
            if value is _MISSING:
                if f.required:
                    raise ValueError(f"{self.model.__name__}.{f.name} is required")
                values.append(None if f.default_is_none else unset)
                continue
            if f.nested is not None and value is not None:
                value = f.nested.to_list(_as_mapping(value), unset)
            values.append(value)
            last = len(values)
        del values[last:]
        return values

    def from_values(self, values: list[Any]) -> dict[str, Any]:
        if len(values) > len(self.fields):
            raise ValueError(
                f"{len(values)} values for {self.model.__name__}, "
                f"which has {len(self.fields)} fields"
            )
        out: dict[str, Any] = {}
        for f, value in zip(self.fields, values, strict=False):
            if value is _UNSET:
                continue
            if f.nested is not None and value is not None:
                if not isinstance(value, list):
                    raise ValueError(f"{self.model.__name__}.{f.name}: expected a nested record")
                value = f.nested.from_values(value)
            out[f.name] = value
        return out


def _as_mapping(value: Any) -> Mapping[str, Any]:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, Mapping):
        return value
    raise TypeError(f"expected a mapping or a pydantic model, got {type(value).__name__}")


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """Return the model of a ``Model`` or ``Model | None`` annotation, else ``None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin is Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return _nested_model(args[0])
    return None


class SchemaSerializer:
    """Positional msgpack encoding whose layout is a pydantic model.

    Args:
        model: The payload model. Its field order is the wire order; nested
            models (``Model`` or ``Model | None`` fields) are encoded
            positionally too.

    Raises:
        MissingDependencyError: ``msgpack`` is not installed.
        TypeError: ``model`` is not a pydantic model, or is recursive.

    Examples:
        >>> from pydantic import BaseModel
        >>> class Meta(BaseModel):
        ...     customer_id: int
        ...     campaign: str | None = None
        >>> s = SchemaSerializer(Meta)
        >>> s.loads(s.dumps({"customer_id": 7}))
        {'customer_id': 7}
    """

    id = 3
    name = "schema"

    def __init__(self, model: type[BaseModel]) -> None:
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise TypeError("SchemaSerializer needs a pydantic model class")
        msgpack = require("msgpack", package="msgpack", extra="msgpack", feature="SchemaSerializer")
        self.model = model
        self._plan = _Plan(model)
        self._unpacker = msgpack.Unpacker
        self._timestamp: type = msgpack.Timestamp
        self._packb = msgpack.packb
        self._unset = msgpack.ExtType(_UNSET_EXT, b"")

    def dumps(self, obj: Mapping[str, Any], /) -> bytes:
        """Serialize ``obj`` (a mapping or an instance of the model) positionally.

        Raises:
            ValueError: A required field is missing or a key is not in the model.
        """
        packb = self._packb
        return b"".join(
            packb(v, default=default, use_bin_type=True)
            for v in self._plan.to_list(_as_mapping(obj), self._unset)
        )

    def loads(self, data: bytes, /) -> dict[str, Any]:
        """Parse positional bytes back to a mapping keyed by field name."""
        unpacker = self._unpacker(
            raw=False, ext_hook=_ext_hook, strict_map_key=True, max_buffer_size=max(len(data), 1)
        )
        unpacker.feed(data)
        values = list(unpacker)
        if any(header in data for header in TIMESTAMP_HEADERS):
            refuse_timestamps(values, self._timestamp)
        return self._plan.from_values(values)

    def __repr__(self) -> str:
        return f"SchemaSerializer({self.model.__name__})"
