"""Serializers: payload mapping to bytes and back.

`JSONSerializer` needs nothing beyond the standard library;
`MsgpackSerializer` and `SchemaSerializer` need ``trackcodec[msgpack]``.
"""

from __future__ import annotations

from trackcodec.serializers.json import JSONSerializer
from trackcodec.serializers.msgpack import MsgpackSerializer
from trackcodec.serializers.schema import SchemaSerializer

__all__ = ["JSONSerializer", "MsgpackSerializer", "SchemaSerializer"]
