"""``trackcodec train-dict``: a zstd dictionary from a JSON-lines file of payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from support import fixed_ring
from trackcodec import Codec, MsgpackSerializer, TokenHeader
from trackcodec import zstd as tzstd
from trackcodec.cli import main
from trackcodec.zstd import ZstdDictCompressor, register_zstd_dictionary


@pytest.fixture(autouse=True)
def _isolated_dictionaries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tzstd, "_registered", dict(tzstd._registered))
    monkeypatch.setattr(tzstd, "_digested", dict(tzstd._digested))


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def _payloads(count: int) -> list[dict[str, object]]:
    return [
        {
            "url": f"https://journal.example.net/articles/{i}?utm_source=briefing&utm_medium=email",
            "metadata": {"reader": 10_000 + i * 37, "briefing": f"morning-{i % 30}"},
        }
        for i in range(count)
    ]


def test_train_a_dictionary_and_use_it(tmp_path: Path) -> None:
    samples = tmp_path / "payloads.jsonl"
    samples.write_text("".join(json.dumps(p) + "\n" for p in _payloads(1500)), encoding="utf-8")
    output = tmp_path / "mine.zdict"
    result = run("train-dict", str(samples), "-o", str(output), "--id", "210", "--size", "1024")
    assert result.exit_code == 0, result.output
    assert "trained on 3000 samples" in result.output  # both spellings
    assert "register_zstd_dictionary(210, " in result.output
    data = output.read_bytes()
    assert 256 < len(data) <= 1024
    # What the command printed works in a fresh registry.
    tzstd._registered.pop(210, None)
    tzstd._digested.pop(210, None)
    register_zstd_dictionary(210, data)
    codec = Codec(
        keys=fixed_ring(), serializer=MsgpackSerializer(), compressor=ZstdDictCompressor(210)
    )
    payload = _payloads(2000)[-1]  # not in the training set
    token = codec.encode(payload)
    assert TokenHeader.parse(token).compressor_id == 3
    assert codec.decode(token) == payload
    builtin = Codec(
        keys=fixed_ring(), serializer=MsgpackSerializer(), compressor=ZstdDictCompressor()
    )
    assert len(token) < len(builtin.encode(payload))


def test_one_spelling(tmp_path: Path) -> None:
    samples = tmp_path / "payloads.json"
    samples.write_text(json.dumps(_payloads(500)), encoding="utf-8")
    output = tmp_path / "mine.zdict"
    result = run("train-dict", str(samples), "-o", str(output), "--serializer", "json")
    assert result.exit_code == 0, result.output
    assert "trained on 500 samples" in result.output


@pytest.mark.parametrize(
    ("content", "args", "code", "message"),
    [
        ("not json\n", (), 1, "line 1"),
        ('{"metadata": {"a": 1}}\n' * 3, (), 1, "at least 8"),
        ('{"metadata": {"a": 1}}\n' * 100, ("--size", "100"), 2, "256<=x<=65536"),
        ('{"metadata": {"a": 1}}\n' * 100, ("--id", "7"), 2, "128<=x<=255"),
    ],
)
def test_errors(
    tmp_path: Path, content: str, args: tuple[str, ...], code: int, message: str
) -> None:
    samples = tmp_path / "payloads.jsonl"
    samples.write_text(content, encoding="utf-8")
    output = tmp_path / "mine.zdict"
    result = run("train-dict", str(samples), "-o", str(output), *args)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert not output.exists()
