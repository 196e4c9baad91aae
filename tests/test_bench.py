"""The benchmark harness behind ``trackcodec bench``: payloads, derived model, runs, reports.

Runs use `BenchOptions.quick` and few combinations, so that the module takes
seconds; no assertion depends on a measured time (the recommendation is tested
on hand-made results).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from trackcodec import MissingDependencyError
from trackcodec.bench import (
    BenchError,
    BenchOptions,
    BenchResult,
    Candidate,
    Measurement,
    PayloadFileError,
    Workload,
    derive_metadata_model,
    load_payload_file,
    model_source,
    parse_only,
    plot,
    recommend,
    reference_workloads,
    run_benchmark,
    table,
    to_csv,
    to_json,
    to_markdown,
)
from trackcodec.payload import payload_model
from trackcodec.serializers import SchemaSerializer

ONE_COMBO = {"serializers": ("msgpack",), "compressors": ("deflate",), "ciphers": ("aes-siv",)}


@pytest.fixture(scope="module")
def reference_run() -> BenchResult:
    """A quick run on the reference payloads: three combinations and the references."""
    options = BenchOptions.quick(
        serializers=("msgpack", "schema"), compressors=("deflate",), ciphers=("aes-siv", "plain")
    )
    return run_benchmark(reference_workloads(), options)


# -- payloads ---------------------------------------------------------------------------


def test_reference_workloads_are_shipped_in_the_package(
    reference_payloads: dict[str, dict[str, Any]],
) -> None:
    workloads = reference_workloads()
    assert [w.name for w in workloads] == ["open", "click", "fat"]
    assert {w.name: w.payloads[0] for w in workloads} == reference_payloads


def test_a_single_payload_file(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text('{"metadata": {"customer_id": 1}, "url": "https://a.example/"}')
    assert load_payload_file(path) == [
        Workload("one.json", ({"metadata": {"customer_id": 1}, "url": "https://a.example/"},))
    ]


def test_a_file_of_named_payloads_gives_one_workload_each(tmp_path: Path) -> None:
    path = tmp_path / "named.json"
    path.write_text(
        json.dumps({"_about": "comment", "a": {"metadata": {"x": 1}}, "b": {"url": "https://b/"}})
    )
    assert [w.name for w in load_payload_file(path)] == ["a", "b"]


@pytest.mark.parametrize("kind", ["lines", "array"])
def test_json_lines_and_arrays_give_one_workload(tmp_path: Path, kind: str) -> None:
    payloads = [{"metadata": {"customer_id": i}} for i in range(5)]
    path = tmp_path / f"many.{kind}"
    if kind == "lines":
        path.write_text("\n".join(json.dumps(p) for p in payloads) + "\n\n")
    else:
        path.write_text(json.dumps(payloads))
    (workload,) = load_payload_file(path)
    assert workload.name == path.name
    assert list(workload.payloads) == payloads


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no payload"),
        ("[]", "no payload"),
        ('{"metadata": {}, "extra": 1}', "unknown key 'extra'"),
        ('{"customer_id": 1}', "unknown key 'customer_id'"),
        ('{"url": 3}', "'url' must be a string"),
        ('{"metadata": [1]}', "'metadata' must be an object"),
        ('{"metadata": {}}\n{"metadata": ', "line 2: not JSON"),
        ("[1]", "a payload is a JSON object"),
        ("3", "expected JSON objects"),
    ],
)
def test_bad_payload_files_are_refused_with_a_reason(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(PayloadFileError, match=message):
        load_payload_file(path)


def test_a_missing_payload_file(tmp_path: Path) -> None:
    with pytest.raises(PayloadFileError, match="cannot read"):
        load_payload_file(tmp_path / "nope.json")


# -- the derived model ------------------------------------------------------------------


def test_the_model_is_inferred_from_the_values(
    reference_payloads: dict[str, dict[str, Any]],
) -> None:
    model = derive_metadata_model(reference_payloads.values())
    assert model is not None
    fields = model.model_fields
    assert list(fields)[:3] == ["customer_id", "campaign", "list_id"]  # first-seen order
    assert fields["customer_id"].is_required()  # in every payload
    assert not fields["list_id"].is_required()  # in the fat one only
    assert fields["customer_id"].annotation is int
    utm = fields["utm"].annotation
    nested = next(a for a in getattr(utm, "__args__", ()) if a is not type(None))
    assert issubclass(nested, BaseModel)
    assert list(nested.model_fields) == ["source", "medium", "campaign", "content"]


def test_mixed_and_awkward_values() -> None:
    payloads = [
        {"metadata": {"n": 1, "mixed": 1, "json": "x", "class": True, "utm-source": [1]}},
        {"metadata": {"n": 2.5, "mixed": "a", "_private": None, "model_id": {"a": 1}}},
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no pydantic warning about shadowed names
        model = derive_metadata_model(payloads)
    assert model is not None
    by_alias = {(f.alias or name): f.annotation for name, f in model.model_fields.items()}
    assert by_alias["n"] is float
    assert str(by_alias["mixed"]) == "typing.Any"
    assert by_alias["class"] == bool | None
    assert set(by_alias) == {"n", "mixed", "json", "class", "utm-source", "_private", "model_id"}
    source = model_source(payloads)
    assert source is not None
    assert "Field(None, alias='utm-source')" in source


def test_the_model_source_compiles_to_the_same_fields(
    reference_payloads: dict[str, dict[str, Any]],
) -> None:
    source = model_source(reference_payloads.values())
    assert source is not None
    namespace: dict[str, Any] = {}
    exec(source, namespace)  # noqa: S102
    model = derive_metadata_model(reference_payloads.values())
    assert model is not None
    assert list(namespace["Metadata"].model_fields) == list(model.model_fields)


def test_no_metadata_no_model() -> None:
    assert derive_metadata_model([{"url": "https://a/"}]) is None
    assert model_source([{"url": "https://a/"}]) is None


def test_the_derived_model_carries_the_payloads_positionally(
    reference_payloads: dict[str, dict[str, Any]],
) -> None:
    model = derive_metadata_model(reference_payloads.values())
    serializer = SchemaSerializer(payload_model(model))
    fat = reference_payloads["fat"]
    data = serializer.dumps(fat)
    assert b"customer_id" not in data
    decoded = serializer.loads(data)
    assert {k: v for k, v in decoded["metadata"].items() if v is not None} == fat["metadata"]


# -- options ----------------------------------------------------------------------------


def test_parse_only() -> None:
    assert parse_only("cipher=aes-siv,fernet; serializer=msgpack") == {
        "cipher": ("aes-siv", "fernet"),
        "serializer": ("msgpack",),
    }
    assert parse_only("cipher=hmac;cipher=hmac,plain") == {"cipher": ("hmac", "plain")}


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("cipher", "bad filter"),
        ("colour=red", "bad filter"),
        ("cipher=rot13", "unknown cipher 'rot13'"),
        ("cipher=", "no name"),
    ],
)
def test_parse_only_refuses(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_only(spec)


def test_options_are_checked() -> None:
    assert BenchOptions(base_url="https://t.example/c").base_url == "https://t.example/c/"
    with pytest.raises(ValueError, match="without query"):
        BenchOptions(base_url="https://t.example/c?t=")
    with pytest.raises(ValueError, match="unknown serializer"):
        BenchOptions(serializers=("yaml",))
    with pytest.raises(ValueError, match="no cipher"):
        BenchOptions(ciphers=())
    with pytest.raises(ValueError, match="repeat"):
        BenchOptions(repeat=0)


# -- runs -------------------------------------------------------------------------------


def test_a_run_measures_every_candidate_on_every_workload(reference_run: BenchResult) -> None:
    names = [c.name for c in reference_run.candidates]
    assert names == [
        "pytracking-plain",
        "pytracking-fernet",
        "itsdangerous",
        "msgpack+deflate+aes-siv",
        "msgpack+deflate+plain",
        "schema+deflate+aes-siv",
        "schema+deflate+plain",
    ]
    assert len(reference_run.measurements) == len(names) * 3
    for m in reference_run.measurements:
        assert m.url_length == m.token_length + len("https://t.example.com/c/")
        assert m.encode_us > 0
        assert m.decode_us > 0
    assert reference_run.workloads == (("open", 1), ("click", 1), ("fat", 1))
    assert reference_run.method.startswith("Method: ")
    assert "round-robin" in reference_run.method


def test_token_lengths_match_the_design_figures(reference_run: BenchResult) -> None:
    def tokens(name: str) -> list[float]:
        return [m.token_length for m in reference_run.of(_candidate(reference_run, name))]

    assert tokens("pytracking-plain") == [84, 180, 564]
    assert tokens("pytracking-fernet") == [164, 268, 652]
    assert tokens("msgpack+deflate+aes-siv") == [88, 175, 356]


def _candidate(result: BenchResult, name: str) -> Candidate:
    return next(c for c in result.candidates if c.name == name)


def test_ratios_are_relative_to_the_reference(reference_run: BenchResult) -> None:
    fernet = _candidate(reference_run, "pytracking-fernet")
    assert reference_run.ratios(fernet, "pytracking-fernet") == pytest.approx((1.0, 1.0))
    ratios = reference_run.ratios(_candidate(reference_run, "schema+deflate+aes-siv"), fernet.name)
    assert ratios is not None
    assert 0 < ratios[0] < 1  # shorter than pytracking + Fernet, whatever the timing
    assert reference_run.ratios(fernet, "not-measured") is None


def test_json_lines_are_reported_as_medians(tmp_path: Path) -> None:
    lines = [
        {"url": "https://shop.example.com/", "metadata": {"customer_id": 1, "tag": "a"}},
        {"metadata": {"customer_id": 22}, "webhook": "https://hooks.example.com/1"},
        {"url": "mailto:someone@example.com", "metadata": {"customer_id": 333, "extra": [1]}},
        {"metadata": {"customer_id": 4444}, "webhook": "https://hooks.example.com/2"},
    ]
    path = tmp_path / "real.jsonl"
    path.write_text("\n".join(json.dumps(p) for p in lines))
    options = BenchOptions.quick(
        serializers=("json", "schema"), compressors=("none",), ciphers=("hmac",), max_sample=2
    )
    result = run_benchmark(load_payload_file(path), options)
    assert result.workloads == (("real.jsonl", 4),)
    for m in result.measurements:
        assert m.payloads == 4
        assert m.token_length <= m.token_length_max
    assert result.metadata_model is not None


def test_expiry_runs_write_timestamps() -> None:
    plain = run_benchmark(reference_workloads()[:1], BenchOptions.quick(**ONE_COMBO))
    stamped = run_benchmark(
        reference_workloads()[:1], BenchOptions.quick(timestamp=True, **ONE_COMBO)
    )
    (a,) = [m for m in plain.measurements if not m.candidate.reference]
    (b,) = [m for m in stamped.measurements if not m.candidate.reference]
    assert b.candidate.timestamp
    assert b.token_length - a.token_length in (5, 6)  # 4 more bytes


def test_runs_without_references() -> None:
    result = run_benchmark(
        reference_workloads()[:1], BenchOptions.quick(references=False, **ONE_COMBO)
    )
    assert [c.name for c in result.candidates] == ["msgpack+deflate+aes-siv"]
    assert "vs pyt-F" not in " ".join(table(result)[0])


def test_a_payload_a_candidate_cannot_carry_is_a_bench_error() -> None:
    workload = Workload("relative", ({"url": "/p/42"},))
    with pytest.raises(BenchError, match="cannot encode payload 1 of relative"):
        run_benchmark([workload], BenchOptions.quick(references=False, **ONE_COMBO))


def test_nothing_to_measure() -> None:
    with pytest.raises(ValueError, match="no payload"):
        run_benchmark([], BenchOptions.quick())
    with pytest.raises(ValueError, match="no payload"):
        run_benchmark([Workload("empty", ())], BenchOptions.quick())


def test_progress_is_reported() -> None:
    seen: list[tuple[str, int, int]] = []
    run_benchmark(
        reference_workloads()[:1],
        BenchOptions.quick(references=False, **ONE_COMBO),
        progress=lambda phase, done, total: seen.append((phase, done, total)),
    )
    assert {phase for phase, _, _ in seen} == {"checking", "warm-up", "timing"}
    assert seen[-1][1] == seen[-1][2]


# -- the recommendation -----------------------------------------------------------------


def _fake(name: str, cipher: str, us: float, length: int, **flags: bool) -> list[Measurement]:
    serializer, compressor, _ = name.split("+")
    candidate = Candidate(
        name,
        "trackcodec",
        serializer,
        compressor,
        cipher,
        flags.get("authenticated", True),
        flags.get("encrypted", True),
        flags.get("timestamp", False),
    )
    return [Measurement(candidate, "w", 1, length - 10, length - 10, length, length, us, us)]


def _fake_result(*rows: list[Measurement]) -> BenchResult:
    measurements = tuple(m for row in rows for m in row)
    return BenchResult(
        options=BenchOptions.quick(),
        workloads=(("w", 1),),
        candidates=tuple(m.candidate for m in measurements),
        measurements=measurements,
        method="Method: made up.",
        environment={"python": "3", "implementation": "CPython", "cpus": "2", "trackcodec": "0"},
        elapsed=0.0,
    )


FAKE = _fake_result(
    _fake("json+none+plain", "plain", 1, 50, authenticated=False, encrypted=False),
    _fake("json+none+hmac", "hmac", 2, 90, encrypted=False),
    _fake("msgpack+none+aes-siv", "aes-siv", 3, 120),
    _fake("schema+deflate+aes-siv", "aes-siv", 5, 80),
    _fake("msgpack+none+xchacha20", "xchacha20", 4, 150, timestamp=True),
)


def test_the_fastest_authenticated_combination_is_recommended() -> None:
    best = recommend(FAKE)
    assert best.candidate is not None
    assert best.candidate.name == "json+none+hmac"  # plain is faster but forgeable
    assert best.requirements == ("authentication",)
    assert [c.name for c, _ in best.runners_up] == [
        "msgpack+none+aes-siv",
        "msgpack+none+xchacha20",
    ]
    assert "signs but does not encrypt" in best.text()


@pytest.mark.parametrize(
    ("requirements", "max_length", "expected"),
    [
        (["encryption"], None, "msgpack+none+aes-siv"),
        (["encryption"], 100, "schema+deflate+aes-siv"),
        (["expiry"], None, "msgpack+none+xchacha20"),
        ([], 60, None),
    ],
)
def test_constraints(requirements: list[str], max_length: int | None, expected: str | None) -> None:
    got = recommend(FAKE, requirements, max_length)
    assert (got.candidate.name if got.candidate else None) == expected


def test_the_settings_to_paste() -> None:
    got = recommend(FAKE, ["encryption", "expiry"], model_source="class Metadata: ...")
    assert got.config_kwargs() == {
        "serializer": "msgpack",
        "compressor": "none",
        "cipher": "xchacha20",
        "ttl": 2592000,
    }
    assert got.environment() == {
        "TRACKCODEC_SERIALIZER": "msgpack",
        "TRACKCODEC_COMPRESSOR": "none",
        "TRACKCODEC_CIPHER": "xchacha20",
        "TRACKCODEC_TTL": "2592000",
    }
    text = got.text()
    assert 'TrackingConfig(serializer="msgpack", compressor="none", cipher="xchacha20"' in text
    assert "TRACKCODEC_CIPHER=xchacha20" in text
    assert got.model_source is None  # only shown when schema wins


def test_a_schema_recommendation_shows_the_model() -> None:
    got = recommend(FAKE, ["encryption"], 100, model_source="class Metadata(BaseModel): ...")
    assert got.candidate is not None
    assert got.candidate.serializer == "schema"
    assert "metadata_model=Metadata" in got.text()
    assert "class Metadata(BaseModel)" in got.text()


def test_no_recommendation_says_why() -> None:
    assert "shortest URL measured is 50" in recommend(FAKE, [], 10).text()
    stampless = _fake_result(_fake("json+none+hmac", "hmac", 2, 90))
    assert "timestamps" in recommend(stampless, ["expiry"]).reason
    assert recommend(stampless, ["expiry"]).config_kwargs() == {}
    with pytest.raises(ValueError, match="unknown requirement"):
        recommend(FAKE, ["speed"])


# -- reports ----------------------------------------------------------------------------


def test_the_table_marks_references_and_the_recommendation(reference_run: BenchResult) -> None:
    recommendation = recommend(reference_run, ["encryption"])
    headers, rows = table(reference_run, recommendation)
    assert headers[:3] == ("serializer", "compressor", "cipher")
    assert "open\nURL" in headers
    assert headers[-2:] == ("URL\nvs pyt-F", "time\nvs pyt-F")
    statuses = {row.candidate.name: row.status for row in rows}
    assert statuses["pytracking-fernet"] == "reference"
    assert statuses["msgpack+deflate+plain"] == "ineligible"
    assert recommendation.candidate is not None
    assert statuses[recommendation.candidate.name] == "recommended"
    plain = next(r for r in rows if r.candidate.name == "msgpack+deflate+plain")
    assert plain.cells[2] == "plain*"
    for sort in ("speed", "length"):
        _, sorted_rows = table(reference_run, recommendation, sort=sort)  # type: ignore[arg-type]
        assert [r.candidate.reference for r in sorted_rows][:3] == [True] * 3


def test_many_workloads_are_summarised() -> None:
    workloads = [Workload(f"w{i}", ({"metadata": {"i": i}},)) for i in range(5)]
    result = run_benchmark(workloads, BenchOptions.quick(references=False, **ONE_COMBO))
    headers, rows = table(result)
    assert headers[3:] == ("URL\nmax", "µs enc\n(mean)", "µs dec\n(mean)")
    assert len(rows[0].cells) == 6


def test_markdown(reference_run: BenchResult) -> None:
    text = to_markdown(reference_run, recommend(reference_run))
    lines = text.splitlines()
    assert lines[0].startswith("| serializer | compressor | cipher | open URL |")
    assert lines[1].startswith("|---|---|---|---:")
    assert any(line.startswith("| **") for line in lines)  # the recommended row
    assert reference_run.method in text
    assert "```text\nRecommended:" in text


def test_csv(reference_run: BenchResult) -> None:
    rows = list(csv.DictReader(io.StringIO(to_csv(reference_run))))
    assert len(rows) == len(reference_run.measurements)
    fernet = [r for r in rows if r["candidate"] == "pytracking-fernet"]
    assert [float(r["url_length_vs_pytracking_fernet"]) for r in fernet] == [1.0, 1.0, 1.0]
    assert {r["workload"] for r in rows} == {"open", "click", "fat"}


def test_json(reference_run: BenchResult) -> None:
    document = json.loads(to_json(reference_run, recommend(reference_run)))
    assert document["method"] == reference_run.method
    assert document["options"]["repeat"] == reference_run.options.repeat
    assert len(document["measurements"]) == len(reference_run.measurements)
    assert document["ratios"]["msgpack+deflate+aes-siv"].keys() == {
        "pytracking-plain",
        "pytracking-fernet",
        "itsdangerous",
    }
    assert document["recommendation"]["tracking_config"]["cipher"] == "aes-siv"


@pytest.mark.parametrize("suffix", ["svg", "png"])
def test_plot(reference_run: BenchResult, tmp_path: Path, suffix: str) -> None:
    pytest.importorskip("matplotlib")
    path = plot(reference_run, tmp_path / f"bench.{suffix}", recommend(reference_run))
    head = path.read_bytes()[:64]
    assert head.startswith(b"\x89PNG") if suffix == "png" else b"<svg" in path.read_bytes()[:500]


def test_plot_formats_and_missing_matplotlib(
    reference_run: BenchResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match=r"\.svg or \.png"):
        plot(reference_run, tmp_path / "bench.pdf")
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependencyError, match=r"trackcodec\[plot\]"):
        plot(reference_run, tmp_path / "bench.svg")


def test_importing_trackcodec_imports_no_cli_or_plot_library() -> None:
    code = (
        "import sys, trackcodec, trackcodec.bench\n"
        "optional = {'click', 'rich', 'matplotlib', 'pytracking', 'itsdangerous'}\n"
        "loaded = optional & set(sys.modules)\n"
        "assert not loaded, loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)  # noqa: S603
