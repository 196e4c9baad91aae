"""The ``trackcodec`` command: keygen, encode, decode, rewrite and bench.

Mostly through click's `CliRunner`; once for real, as a subprocess of the
installed console script. Benchmarks run with ``--quick`` and few
combinations, and nothing depends on a measured time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from trackcodec import KeyRing, TokenHeader, Tracker
from trackcodec.cli import main

KEYS = KeyRing({3: bytes(range(32))}).to_string()
BASE = "https://t.example.com/c/"
CLICK = {"url": "https://shop.example.com/p/42", "metadata": {"customer_id": 123456}}
QUICK = ["bench", "--quick", "--only", "serializer=msgpack;compressor=none;cipher=aes-siv,hmac"]


def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
    """Invoke the command with the test keys in the environment (unless ``env`` says otherwise)."""
    environment = {"TRACKCODEC_KEYS": KEYS, **(env or {})}
    return CliRunner().invoke(main, list(args), input=input, env=environment)


@pytest.fixture(autouse=True)
def _no_settings_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("TRACKCODEC_"):
            monkeypatch.delenv(name)


# -- keygen -----------------------------------------------------------------------------


def test_keygen_prints_a_new_ring() -> None:
    result = run("keygen")
    assert result.exit_code == 0, result.output
    ring = KeyRing.from_string(result.stdout)
    assert ring.key_ids == (0,)
    assert run("keygen").stdout != result.stdout


def test_keygen_rotates() -> None:
    result = run("keygen", "--rotate", KEYS, "--key-id", "9")
    assert result.exit_code == 0, result.output
    ring = KeyRing.from_string(result.stdout)
    assert ring.primary_id == 9
    assert set(ring.key_ids) == {3, 9}
    assert run("keygen", "--key-id", "300").exit_code == 2
    bad = run("keygen", "--rotate", "nope")
    assert bad.exit_code == 2
    assert "tck1:" in bad.stderr


# -- encode and decode ------------------------------------------------------------------


def test_encode_makes_a_url_that_the_library_reads() -> None:
    result = run("encode", "--base-url", BASE, json.dumps(CLICK))
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    assert url.startswith(BASE)
    tracker = Tracker(base_click_tracking_url=BASE, keys=KEYS)
    parsed = tracker.parse_click(url)
    assert parsed.tracked_url == CLICK["url"]
    assert parsed.metadata == CLICK["metadata"]
    assert parsed.key_id == 3


def test_encode_without_base_url_prints_the_token() -> None:
    result = run("encode", input=json.dumps({"metadata": {"a": 1}}))
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert "/" not in token
    assert TokenHeader.parse(token).key_id == 3
    with_base = run("encode", "--token", "--base-url", BASE, json.dumps({"metadata": {"a": 1}}))
    assert not with_base.stdout.startswith("https://")


def test_encode_puts_the_webhook_in_the_token() -> None:
    payload = {**CLICK, "webhook": "https://hooks.example.com/t"}
    token = run("encode", json.dumps(payload)).stdout.strip()
    decoded = run("decode", "--json", token)
    assert json.loads(decoded.stdout)["payload"] == payload


@pytest.mark.parametrize("cipher", ["aes-siv", "xchacha20", "secretbox", "fernet", "hmac", "plain"])
def test_decode_prints_header_and_payload(cipher: str) -> None:
    url = run("encode", "--cipher", cipher, "--base-url", BASE, json.dumps(CLICK)).stdout.strip()
    result = run("decode", "--cipher", cipher, url)  # plain tokens: only when configured
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "format:         trackcodec 1" in out
    assert f"cipher:         {cipher}" in out
    assert "key id:         3" in out
    assert "issued at:      not in the token" in out
    payload = json.loads(out[out.index("{") :])
    assert payload == CLICK


def test_decode_json_and_issue_time() -> None:
    token = run("encode", "--timestamp", json.dumps({"metadata": {"a": 1}})).stdout.strip()
    result = run("decode", "--json", token)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["payload"] == {"metadata": {"a": 1}}
    assert document["header"]["issued_at"] > 1_700_000_000
    assert document["header"]["serializer"] == "msgpack"
    assert document["header"]["authenticated"] is True


def test_decode_reads_a_path_or_stdin() -> None:
    url = run("encode", "--base-url", BASE, json.dumps(CLICK)).stdout.strip()
    path = "/c/" + url.rpartition("/")[2] + "/"
    assert run("decode", path).exit_code == 0
    assert run("decode", input=url + "\n").exit_code == 0


def test_decode_a_query_parameter() -> None:
    url = run(
        "encode", "--base-url", "https://t.example.com/c", json.dumps(CLICK),
        env={"TRACKCODEC_TOKEN_PARAM": "t"},
    ).stdout.strip()  # fmt: skip
    assert "?t=" in url
    result = run("decode", url, env={"TRACKCODEC_TOKEN_PARAM": "t"})
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("cipher", "labels"),
    [
        ("aes-siv", ["synthetic IV", "ciphertext"]),
        ("xchacha20", ["nonce", "Poly1305 tag"]),
        ("secretbox", ["nonce", "Poly1305 tag"]),
        ("fernet", ["Fernet IV", "HMAC-SHA256"]),
        ("hmac", ["readable", "HMAC-SHA256 tag"]),
        ("plain", ["NOT authenticated"]),
    ],
)
def test_explain_shows_where_each_byte_goes(cipher: str, labels: list[str]) -> None:
    payload = {"url": "https://shop.example.com/p/42?utm_source=mail&utm_medium=email" * 2}
    token = run("encode", "--timestamp", "--cipher", cipher, json.dumps(payload)).stdout.strip()
    result = run("decode", "--explain", "--cipher", cipher, token)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert f"token: {len(token)} characters" in out
    assert "format version 1" in out
    assert "issued at" in out
    assert "key id 3" in out
    for label in labels:
        assert label in out
    assert "compressed with deflate-dict" in out  # the tracker's default
    assert "deflate-dict made it" in out
    # The byte ranges add up to the whole token.
    raw_size = int(out.split(" bytes (4 characters")[0].rsplit(" ", 1)[1])
    sizes = [
        int(line.split(" B ")[0].rsplit(" ", 1)[1]) for line in out.splitlines() if " B  " in line
    ]
    assert sum(sizes) == raw_size


def test_explain_still_shows_the_header_when_the_key_is_wrong() -> None:
    token = run("encode", json.dumps(CLICK)).stdout.strip()
    other = KeyRing({3: bytes(32)}).to_string()
    result = run("decode", "--explain", token, env={"TRACKCODEC_KEYS": other})
    assert result.exit_code == 1
    assert "key id 3" in result.stdout
    assert "authentication" in result.stderr


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["decode", "not-a-token!"], None, "base64url"),
        (["decode", "ECIA"], None, "Error:"),
        (["decode"], "", "empty token"),
        (["encode", "{"], None, "not JSON"),
        (["encode", '{"customer_id": 1}'], None, "unknown key"),
        (["encode", '{"url": "javascript:alert(1)"}'], None, "cannot encode"),
    ],
)
def test_invalid_tokens_and_input_exit_1(args: list[str], stdin: str | None, message: str) -> None:
    result = run(*args, input=stdin)
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["decode", "--cipher", "rot13", "x"], {}),
        (["encode", "--no-such-flag"], {}),
        (["encode", "{}"], {"TRACKCODEC_KEYS": "nope"}),
        (["encode", "{}"], {"TRACKCODEC_COLOUR": "red"}),
        (["encode", "--model", "nomodule", "{}"], {}),
        (["frobnicate"], {}),
    ],
)
def test_usage_errors_exit_2(args: list[str], env: dict[str, str]) -> None:
    result = run(*args, env=env)
    assert result.exit_code == 2, result.output
    assert result.stderr


def test_missing_keys_are_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["encode", "{}"])
    assert result.exit_code == 2
    assert "needs keys" in result.stderr


# -- settings ---------------------------------------------------------------------------


def test_settings_precedence_flags_then_env_then_toml(tmp_path: Path) -> None:
    config = tmp_path / "pyproject.toml"
    config.write_text(
        f'[trackcodec]\nkeys = "{KEYS}"\nserializer = "json"\ncipher = "hmac"\n'
        'compressor = "none"\n'
    )

    def header(*args: str, env: dict[str, str]) -> dict[str, Any]:
        token = CliRunner().invoke(main, ["encode", "--config", str(config), *args, "{}"], env=env)
        assert token.exit_code == 0, token.output
        args = ["decode", "--json", "--config", str(config), token.stdout.strip()]
        decoded = CliRunner().invoke(main, args, env=env)
        return dict(json.loads(decoded.stdout)["header"])

    assert header(env={})["serializer"] == "json"
    assert header(env={})["cipher"] == "hmac"
    from_env = header(env={"TRACKCODEC_SERIALIZER": "msgpack"})
    assert (from_env["serializer"], from_env["cipher"]) == ("msgpack", "hmac")
    from_flag = header("--serializer", "json", env={"TRACKCODEC_SERIALIZER": "msgpack"})
    assert from_flag["serializer"] == "json"


def test_a_toml_file_without_a_trackcodec_table(tmp_path: Path) -> None:
    config = tmp_path / "tracking.toml"
    config.write_text(f'keys = "{KEYS}"\ncipher = "hmac"\n')
    result = CliRunner().invoke(main, ["encode", "--config", str(config), "{}"])
    assert result.exit_code == 0, result.output
    assert TokenHeader.parse(result.stdout.strip()).cipher_id == 1


def test_a_model_for_the_schema_serializer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "cli_test_models.py").write_text(
        "from pydantic import BaseModel\n\n\n"
        "class Meta(BaseModel):\n    customer_id: int\n    campaign: str | None = None\n"
    )
    monkeypatch.chdir(tmp_path)
    args = ["--serializer", "schema", "--model", "cli_test_models:Meta"]
    payload = {"metadata": {"customer_id": 7, "campaign": "x"}}
    token = run("encode", *args, json.dumps(payload)).stdout.strip()
    without_names = run("encode", "--serializer", "schema", json.dumps(payload)).stdout.strip()
    assert len(token) < len(without_names)  # positional: no field names in the token
    result = run("decode", "--json", *args, token)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["payload"] == payload
    assert run("encode", "--model", "cli_test_models:Nope", "{}").exit_code == 2
    assert run("encode", "--model", "json:dumps", "{}").exit_code == 2
    assert run("encode", "--model", "no-colon", "{}").exit_code == 2


def test_legacy_pytracking_tokens() -> None:
    pytracking = pytest.importorskip("pytracking")
    url = pytracking.get_open_tracking_url({"customer_id": 1}, base_open_tracking_url=BASE)
    refused = run("decode", url)
    assert refused.exit_code == 1
    assert "TRACKCODEC_ACCEPT_LEGACY=plain" in refused.stderr
    result = run("decode", "--explain", url, env={"TRACKCODEC_ACCEPT_LEGACY": "plain"})
    assert result.exit_code == 0, result.output
    assert "pytracking 0.2 (plain)" in result.stdout
    assert "authenticated:  False" in result.stdout
    assert '"customer_id": 1' in result.stdout


def test_legacy_pytracking_fernet_tokens() -> None:
    pytracking = pytest.importorskip("pytracking")
    fernet = pytest.importorskip("cryptography.fernet")
    key = fernet.Fernet.generate_key()
    url = pytracking.get_click_tracking_url(
        "https://shop.example.com/", {"customer_id": 2},
        base_click_tracking_url=BASE, encryption_bytestring_key=key,
    )  # fmt: skip
    env = {"TRACKCODEC_ACCEPT_LEGACY": "fernet", "TRACKCODEC_LEGACY_FERNET_KEYS": key.decode()}
    result = run("decode", "--json", url, env=env)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["header"]["format"] == "pytracking 0.2 (fernet)"
    assert document["payload"]["url"] == "https://shop.example.com/"
    assert run("decode", url).exit_code == 1


# -- rewrite ----------------------------------------------------------------------------


def test_rewrite_tracks_links_and_adds_the_pixel(tmp_path: Path) -> None:
    page = tmp_path / "mail.html"
    page.write_text('<html><body><a href="https://shop.example.com/p/42">Buy</a></body></html>')
    out = tmp_path / "out.html"
    result = run(
        "rewrite", str(page), "--base-url", BASE, "--metadata", '{"customer_id": 5}',
        "-o", str(out),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    html = out.read_text()
    assert html.count(BASE) == 2  # the link and the pixel
    href = html.split('href="')[1].split('"')[0]
    parsed = Tracker(base_click_tracking_url=BASE, keys=KEYS).parse_click(href)
    assert parsed.tracked_url == "https://shop.example.com/p/42"
    assert parsed.metadata["customer_id"] == 5
    assert run("rewrite", "-", "--base-url", BASE, input="<p>hi</p>").stdout.startswith("<p>hi")
    assert run("rewrite", str(page)).exit_code == 2  # no base URL
    assert run("rewrite", str(page), "--base-url", BASE, "--metadata", "[1]").exit_code == 1


# -- bench ------------------------------------------------------------------------------


def test_bench_prints_table_method_and_recommendation() -> None:
    result = run(*QUICK, "--require", "encryption")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "serializer" in out
    assert "pytracking json" in out
    assert "Method: " in out
    assert "Recommended: msgpack + none + aes-siv" in out  # the only one that encrypts
    assert "TRACKCODEC_CIPHER=aes-siv" in out
    assert "measuring" in result.stderr


def test_bench_writes_json_markdown_csv_and_plot(tmp_path: Path) -> None:
    files = {kind: tmp_path / f"bench.{kind}" for kind in ("json", "md", "csv", "svg")}
    result = run(
        *QUICK, "--json", str(files["json"]), "--markdown", str(files["md"]),
        "--csv", str(files["csv"]), "--plot", str(files["svg"]), "--sort", "length",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(files["json"].read_text())["recommendation"]["candidate"]
    assert files["md"].read_text().startswith("| serializer |")
    assert files["csv"].read_text().startswith("candidate,family,")
    assert "<svg" in files["svg"].read_text()


def test_bench_json_to_stdout_is_clean() -> None:
    result = run(*QUICK, "--json", "-", "--no-references", "--max-length", "500")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # nothing but JSON on stdout
    assert {m["candidate"] for m in document["measurements"]} == {
        "msgpack+none+aes-siv",
        "msgpack+none+hmac",
    }
    assert document["recommendation"]["max_length"] == 500


def test_bench_on_a_payload_file(tmp_path: Path) -> None:
    path = tmp_path / "payloads.jsonl"
    path.write_text(
        "\n".join(json.dumps({"metadata": {"customer_id": i, "list": "weekly"}}) for i in range(3))
    )
    result = run(*QUICK, "--payload", str(path), "--base-url", "https://x.example/t")
    assert result.exit_code == 0, result.output
    assert "payloads.jsonl" in result.stdout
    assert "base URL (20)" in result.stdout  # https://x.example/t/


def test_bench_with_unmeetable_constraints() -> None:
    # Regression (issue 13): nothing meeting --max-length used to exit 0.
    result = run(*QUICK, "--max-length", "20", "--require", "expiry")
    assert result.exit_code == 1, result.output
    assert "No combination meets the constraints" in result.stdout
    assert "closest" in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--only", "cipher=rot13"],
        ["--only", "colour=red"],
        ["--require", "speed"],
        ["--plot", "bench.pdf"],
        ["--payload", "does-not-exist.json"],
        ["--base-url", "ftp://x/"],
        ["--max-length", "0"],
    ],
)
def test_bench_usage_errors(args: list[str]) -> None:
    result = run(*QUICK, *args)
    assert result.exit_code == 2, result.output


def test_bench_bad_payload_file_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"customer_id": 1}')
    result = run(*QUICK, "--payload", str(path))
    assert result.exit_code == 1
    assert "unknown key 'customer_id'" in result.stderr


def test_bench_without_matplotlib_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = run(*QUICK, "--plot", "bench.svg")
    assert result.exit_code == 1
    assert "pip install 'trackcodec[plot]'" in result.stderr


# -- the installed console script -------------------------------------------------------


def test_the_console_script_runs_for_real(tmp_path: Path) -> None:
    script = shutil.which("trackcodec", path=str(Path(sys.executable).parent))
    assert script is not None, "the trackcodec console script is not installed"
    env = {"PATH": str(Path(sys.executable).parent), "TRACKCODEC_KEYS": KEYS}
    keygen = subprocess.run(  # noqa: S603
        [script, "keygen"], capture_output=True, text=True, check=True, env=env
    )
    assert keygen.stdout.startswith("tck1:")
    encoded = subprocess.run(  # noqa: S603
        [script, "encode", "--base-url", BASE, json.dumps(CLICK)],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    decoded = subprocess.run(  # noqa: S603
        [script, "decode", "--json", encoded.stdout.strip()],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    assert json.loads(decoded.stdout)["payload"] == CLICK
    bad = subprocess.run([script, "decode", "forged"], capture_output=True, text=True, env=env)  # noqa: S603
    assert bad.returncode == 1
    assert bad.stderr.startswith("Error:")
    bench = subprocess.run(  # noqa: S603
        [script, *QUICK, "--markdown", str(tmp_path / "b.md")],
        capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert bench.returncode == 0, bench.stderr
    assert "Recommended:" in bench.stdout
    assert (tmp_path / "b.md").read_text().startswith("| serializer |")


def test_encode_runs_with_the_other_commands_settings_in_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The server's and the event commands' TRACKCODEC_* variables are not tracker typos.
    monkeypatch.setenv("TRACKCODEC_DATABASE", "events.sqlite3")
    monkeypatch.setenv("TRACKCODEC_PORT", "8080")
    monkeypatch.setenv("TRACKCODEC_OUTBOX", "outbox.sqlite3")
    monkeypatch.setenv("TRACKCODEC_KEYS", KeyRing.generate().to_string())
    result = CliRunner().invoke(main, ["encode", '{"metadata": {"customer_id": 1}}'])
    assert result.exit_code == 0, result.output
