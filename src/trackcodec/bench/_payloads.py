"""Benchmark payloads: the shipped reference payloads, payload files, and a model derived from them.

A payload has the tracking layout: an object with an optional ``url`` (the
link's target, for click tracking), ``metadata`` (an object) and ``webhook``.
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, create_model

from trackcodec.payload import PAYLOAD_KEYS, check_layout

__all__ = [
    "PayloadFileError",
    "Workload",
    "check_payload",
    "derive_metadata_model",
    "load_payload_file",
    "model_source",
    "reference_workloads",
]


class PayloadFileError(ValueError):
    """A payload file cannot be read, or holds something that is not a tracking payload."""


@dataclass(frozen=True)
class Workload:
    """A named set of payloads, measured together and reported as one.

    Attributes:
        name: Shown in reports (``open``, ``click``, ``fat``, or a file name).
        payloads: The payloads, in the tracking layout.
    """

    name: str
    payloads: tuple[dict[str, Any], ...]


def check_payload(obj: Any, where: str) -> dict[str, Any]:
    """Return ``obj`` if it is a payload in the tracking layout (`trackcodec.payload`).

    Raises:
        PayloadFileError: It is not, with ``where`` in the message.
    """
    try:
        return check_layout(obj)
    except ValueError as exc:
        raise PayloadFileError(f"{where}: {exc}") from None


def _is_payload_collection(obj: dict[str, Any]) -> bool:
    entries = [v for k, v in obj.items() if not k.startswith("_")]
    return bool(entries) and all(isinstance(v, dict) and v.keys() <= PAYLOAD_KEYS for v in entries)


def _workloads_from_object(obj: dict[str, Any], name: str) -> list[Workload]:
    if obj.keys() <= PAYLOAD_KEYS:
        return [Workload(name, (check_payload(obj, name),))]
    if _is_payload_collection(obj):
        return [
            Workload(key, (check_payload(value, f"{name}: {key}"),))
            for key, value in obj.items()
            if not key.startswith("_")
        ]
    check_payload(obj, name)  # raises, naming the first unknown key
    raise AssertionError  # pragma: no cover


def reference_workloads() -> list[Workload]:
    """The three reference payloads shipped with trackcodec: ``open``, ``click`` and ``fat``."""
    text = (resources.files("trackcodec") / "data" / "reference_payloads.json").read_text(
        encoding="utf-8"
    )
    return _workloads_from_object(json.loads(text), "reference payloads")


def load_payload_file(path: str | Path) -> list[Workload]:
    """Read benchmark payloads from a file.

    The file holds one of:

    - a JSON object in the tracking layout: one payload;
    - a JSON object of named payloads (like the reference file; keys starting
      with ``_`` are comments): one workload per name;
    - a JSON array of payloads, or JSON lines (one payload per line): one
      workload named after the file, reported as medians over its payloads.

    Raises:
        PayloadFileError: The file cannot be read or holds something else.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PayloadFileError(f"cannot read {path}: {exc}") from exc
    name = path.name
    try:
        whole = json.loads(text)
    except ValueError:
        whole = _json_lines(text, name)
    if isinstance(whole, dict):
        return _workloads_from_object(whole, name)
    if isinstance(whole, list):
        if not whole:
            raise PayloadFileError(f"{name}: no payload")
        payloads = tuple(check_payload(p, f"{name}: payload {i}") for i, p in enumerate(whole, 1))
        return [Workload(name, payloads)]
    raise PayloadFileError(f"{name}: expected JSON objects, got {type(whole).__name__}")


def _json_lines(text: str, name: str) -> list[Any]:
    items = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            items.append(json.loads(line))
        except ValueError as exc:
            raise PayloadFileError(f"{name}, line {number}: not JSON ({exc})") from None
    if not items:
        raise PayloadFileError(f"{name}: no payload")
    return items


# -- the model of the schema serializer -----------------------------------------------

_NOT_A_NAME = re.compile(r"[^0-9A-Za-z]+")


def _class_name(key: str, taken: set[str]) -> str:
    base = "".join(part[:1].upper() + part[1:] for part in _NOT_A_NAME.split(key)) or "Nested"
    if base[0].isdigit():
        base = "M" + base
    name, n = base, 2
    while name in taken:
        name, n = f"{base}{n}", n + 1
    taken.add(name)
    return name


def _field_name(key: str, index: int) -> str:
    """``key`` if it can be a pydantic field name, else a stand-in (``key`` becomes the alias)."""
    if (
        key.isidentifier()
        and not keyword.iskeyword(key)
        and not key.startswith(("_", "model_"))
        and not hasattr(BaseModel, key)
    ):
        return key
    return f"field_{index}"


class _Spec:
    """What was inferred for one model: fields in first-seen order, for building and printing."""

    def __init__(self, name: str) -> None:
        self.name = name
        # (field name, alias or None, annotation, source text of the annotation, required)
        self.fields: list[tuple[str, str | None, Any, str, bool]] = []
        self.nested: list[_Spec] = []


def _infer(key: str, values: list[Any], taken: set[str], spec: _Spec) -> tuple[Any, str]:
    if not values:
        return Any, "Any"
    if all(isinstance(v, bool) for v in values):
        return bool, "bool"
    if all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        return int, "int"
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return float, "float"
    if all(isinstance(v, str) for v in values):
        return str, "str"
    if all(isinstance(v, list) for v in values):
        return list[Any], "list[Any]"
    if all(isinstance(v, dict) for v in values):
        sub = _build(_class_name(key, taken), values, taken)
        spec.nested.append(sub[1])
        return sub[0], sub[1].name
    return Any, "Any"


def _build(
    name: str, objects: Sequence[Mapping[str, Any]], taken: set[str]
) -> tuple[type[BaseModel], _Spec]:
    spec = _Spec(name)
    keys: dict[str, None] = {}
    for obj in objects:
        keys.update(dict.fromkeys(obj))
    definitions: dict[str, Any] = {}
    for index, key in enumerate(keys):
        present = [obj[key] for obj in objects if obj.get(key) is not None]
        annotation, text = _infer(key, present, taken, spec)
        required = len(present) == len(objects) and annotation is not Any
        field = _field_name(key, index)
        alias = None if field == key else key
        if required:
            definitions[field] = (annotation, Field(alias=alias) if alias else ...)
        else:
            optional = annotation if annotation is Any else annotation | None
            definitions[field] = (optional, Field(None, alias=alias))
        spec.fields.append((field, alias, annotation, text, required))
    model: type[BaseModel] = create_model(name, **definitions)
    return model, spec


def derive_metadata_model(payloads: Iterable[Mapping[str, Any]]) -> type[BaseModel] | None:
    """Infer a pydantic model of the payloads' metadata, for the ``schema`` serializer.

    Keys keep the order in which they are first seen (the wire order);
    a key present and not null in every payload is required, the others are
    optional. Types are inferred from the JSON values (ints with floats are
    floats, nested objects become nested models, mixed types become ``Any``).
    Keys that cannot be Python field names get a stand-in name and the key as
    alias.

    Returns:
        The model, or ``None`` when no payload has metadata.
    """
    metadata = [p["metadata"] for p in payloads if p.get("metadata")]
    if not metadata:
        return None
    return _build("Metadata", metadata, {"Metadata"})[0]


def model_source(payloads: Iterable[Mapping[str, Any]]) -> str | None:
    """Python source of the model `derive_metadata_model` builds, to paste into your code."""
    metadata = [p["metadata"] for p in payloads if p.get("metadata")]
    if not metadata:
        return None
    spec = _build("Metadata", metadata, {"Metadata"})[1]
    blocks: list[str] = []

    def emit(s: _Spec) -> None:
        for sub in s.nested:
            emit(sub)
        lines = [f"class {s.name}(BaseModel):"]
        for field, alias, _, text, required in s.fields:
            if required:
                value = f" = Field(alias={alias!r})" if alias else ""
                lines.append(f"    {field}: {text}{value}")
            else:
                value = f"Field(None, alias={alias!r})" if alias else "None"
                optional = text if text == "Any" else f"{text} | None"
                lines.append(f"    {field}: {optional} = {value}")
        blocks.append("\n".join(lines))

    emit(spec)
    uses_any = any(t == "Any" or "[Any]" in t for t in _all_texts(spec))
    head = ("from typing import Any\n\n" if uses_any else "") + "from pydantic import BaseModel"
    if any(alias for s in _all_specs(spec) for _, alias, *_ in s.fields):
        head += ", Field"
    return head + "\n\n\n" + "\n\n\n".join(blocks) + "\n"


def _all_specs(spec: _Spec) -> list[_Spec]:
    return [spec, *(s for sub in spec.nested for s in _all_specs(sub))]


def _all_texts(spec: _Spec) -> list[str]:
    return [f[3] for s in _all_specs(spec) for f in s.fields]
