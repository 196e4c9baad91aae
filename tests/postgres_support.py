"""A real PostgreSQL server for the tests, started from the local binaries.

`running_postgres` runs ``initdb`` and ``pg_ctl`` into a temporary directory
and serves on a free port of 127.0.0.1 only; it stops the server and removes
the directory on exit. As root (``initdb`` refuses to run as root) the server
runs as the ``postgres`` OS user through ``runuser``.

tests/conftest.py imports the session fixture, so every test module can use it::

    def test_x(postgres_server: PostgresServer) -> None:
        dsn = postgres_server.fresh_dsn()   # an empty schema of its own
        other_db = postgres_server.dsn      # the server's "postgres" database

The fixture skips, with the reason, only when no PostgreSQL binaries are
installed (``apt-get install postgresql``) or psycopg is missing;
``TRACKCODEC_PG_BIN`` names the binary directory explicitly.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

__all__ = ["PostgresServer", "find_pg_bin", "postgres_server", "running_postgres"]


def find_pg_bin() -> Path | None:
    """The directory of ``initdb`` and ``pg_ctl`` (newest version first), or ``None``."""
    candidates: list[str] = []
    if os.environ.get("TRACKCODEC_PG_BIN"):
        candidates.append(os.environ["TRACKCODEC_PG_BIN"])

    def version(path: str) -> float:
        try:
            return float(Path(path).parent.name)
        except ValueError:
            return 0.0

    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    if shutil.which("pg_ctl"):
        candidates.append(str(Path(shutil.which("pg_ctl") or "").parent))
    for candidate in candidates:
        path = Path(candidate)
        if (path / "initdb").is_file() and (path / "pg_ctl").is_file():
            return path
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A running throw-away server: `dsn` connects as the superuser ``postgres``."""

    def __init__(self, bindir: Path, base: Path, *, fast: bool) -> None:
        self.bindir = bindir
        self.base = base
        self.data = base / "data"
        self.fast = fast
        self.port = 0
        self._as_user: list[str] = []
        if os.geteuid() == 0:  # initdb refuses to run as root
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError(
                    "running as root, and there is no 'postgres' OS user to run the server "
                    "as (the Debian package creates it; or: useradd --system postgres)"
                ) from None
            self._as_user = ["runuser", "-u", "postgres", "--"]
            os.chown(base, pw.pw_uid, pw.pw_gid)

    @property
    def dsn(self) -> str:
        """Connection URL of the ``postgres`` database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run(  # noqa: S603 - the PostgreSQL binaries found above
            [*self._as_user, *args], check=True, capture_output=True, timeout=120
        )

    def start(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        options = [f"-c unix_socket_directories={self.base}", "-c listen_addresses=127.0.0.1"]
        if self.fast:  # tests only: a crash of this throw-away server does not matter
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        for attempt in range(3):
            self.port = _free_port()
            try:
                self._run(
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.base / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    " ".join([*options, f"-p {self.port}"]),
                    "start",
                )
                return
            except subprocess.CalledProcessError:
                if attempt == 2:  # the port was taken meanwhile, or a real failure: show the log
                    log = (self.base / "server.log").read_text(errors="replace")
                    raise RuntimeError(f"PostgreSQL did not start:\n{log[-3000:]}") from None

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def fresh_dsn(self, prefix: str = "t") -> str:
        """Create an empty schema and return a DSN whose ``search_path`` is that schema."""
        import psycopg

        schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {schema}")
        return f"{self.dsn}?options={quote(f'-csearch_path={schema}')}"


@contextlib.contextmanager
def running_postgres(*, fast: bool = True) -> Iterator[PostgresServer]:
    """Start a server in a temporary directory; stop it and remove the directory on exit.

    Args:
        fast: ``fsync=off`` and ``synchronous_commit=off`` (for tests; the
            benchmarks use ``False`` to measure real commits).

    Raises:
        FileNotFoundError: No PostgreSQL binaries (see `find_pg_bin`).
    """
    bindir = find_pg_bin()
    if bindir is None:
        raise FileNotFoundError("no PostgreSQL binaries in /usr/lib/postgresql/*/bin or PATH")
    base = Path(tempfile.mkdtemp(prefix="trackcodec-pg-"))
    server = PostgresServer(bindir, base, fast=fast)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A PostgreSQL server for the whole session (skips only without binaries or psycopg)."""
    if find_pg_bin() is None:
        pytest.skip(
            "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin, PATH or "
            "TRACKCODEC_PG_BIN): apt-get install postgresql to run the PostgreSQL tests"
        )
    pytest.importorskip("psycopg", reason="psycopg is missing: pip install 'trackcodec[postgres]'")
    with running_postgres(fast=True) as server:
        yield server
