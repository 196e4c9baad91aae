"""Run a `TrackingServer` under uvicorn: one process, or several workers on one port.

SIGTERM (or Ctrl+C) stops the server gracefully: the listening socket is
closed at once, requests in flight are finished (up to
``shutdown_timeout``), the last events are committed, the store is closed,
and the process exits with status 0.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import tempfile
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from trackcodec._deps import require
from trackcodec.config import TrackingConfig, import_model
from trackcodec.errors import ConfigurationError
from trackcodec.server._metrics import MULTIPROC_ENV
from trackcodec.server.settings import ServerSettings, load_settings
from trackcodec.tracking import Tracker

__all__ = ["STARTUP_FAILURE", "build_tracker", "run", "uvicorn_config", "worker_app"]

STARTUP_FAILURE = 3
"""Exit status when the server could not start (store unreachable, port taken...)."""

# How workers (spawned processes) get the settings the command was given: the same
# inputs, merged again in each worker with the same environment.
_WORKER_ENV = "_TRACKCODEC_SERVE_ARGS"


def build_tracker(config: TrackingConfig, model: str | None = None) -> Tracker[Any]:
    """The tracker the server decodes tokens with.

    Raises:
        ConfigurationError: No keys, or invalid settings.
    """
    if config.keys is None:
        raise ConfigurationError(
            "trackcodec serve needs the key ring: set TRACKCODEC_KEYS (trackcodec keygen)",
            field="keys",
        )
    if model:
        return Tracker(config, metadata_model=import_model(model))
    return Tracker(config)


def uvicorn_config(app: Any, settings: ServerSettings, *, factory: bool = False) -> Any:
    """The ``uvicorn.Config`` of ``app`` under ``settings`` (guarded protocol, limits)."""
    uvicorn = require("uvicorn", package="uvicorn", extra="server", feature="trackcodec serve")
    from trackcodec.server._protocol import CONFIG_ATTRIBUTE, GuardedHttpToolsProtocol, Limits

    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        factory=factory,
        http=GuardedHttpToolsProtocol,
        lifespan="on",
        # The endpoint resolves client addresses itself, with its trusted proxies.
        proxy_headers=False,
        server_header=False,
        access_log=settings.access_log,
        log_level=settings.log_level,
        timeout_keep_alive=math.ceil(settings.keep_alive_timeout),
        timeout_graceful_shutdown=math.ceil(settings.shutdown_timeout),
        limit_concurrency=settings.max_connections,
    )
    setattr(
        config,
        CONFIG_ATTRIBUTE,
        Limits(
            header_timeout=settings.header_timeout,
            max_url_length=settings.max_url_length,
            max_header_bytes=settings.max_header_bytes,
            max_headers=settings.max_headers,
        ),
    )
    return config


def _inputs_from_env() -> tuple[Path | None, dict[str, Any], dict[str, Any], str | None]:
    data = json.loads(os.environ[_WORKER_ENV])
    config_file = Path(data["config_file"]) if data["config_file"] else None
    return config_file, data["tracking_flags"], data["server_flags"], data["model"]


def worker_app() -> Any:
    """Build the app in a worker process (uvicorn's ``factory``) from the command's inputs."""
    from trackcodec.server.app import TrackingServer

    config_file, tracking_flags, server_flags, model = _inputs_from_env()
    config, settings = load_settings(config_file, tracking_flags, server_flags)
    return TrackingServer(build_tracker(config, model), settings)


def _quiet(signum: int, frame: FrameType | None) -> None:
    """Replaces the default action of SIGTERM/SIGINT once uvicorn has shut down.

    uvicorn re-raises the signal that stopped it after its graceful shutdown; the
    default action would then kill the process with that signal (status -15)
    although every request was answered and every event committed.
    """


def run(
    config_file: Path | None,
    tracking_flags: Mapping[str, Any],
    server_flags: Mapping[str, Any],
    *,
    model: str | None = None,
) -> int:
    """Run ``trackcodec serve`` until SIGTERM or SIGINT; return the exit status.

    Raises:
        ConfigurationError: Invalid settings (before anything starts).
    """
    uvicorn = require("uvicorn", package="uvicorn", extra="server", feature="trackcodec serve")
    from trackcodec.server.app import TrackingServer

    config, settings = load_settings(config_file, tracking_flags, server_flags)
    tracker = build_tracker(config, model)
    signal.signal(signal.SIGTERM, _quiet)
    signal.signal(signal.SIGINT, _quiet)
    if settings.workers == 1:
        server = uvicorn.Server(uvicorn_config(TrackingServer(tracker, settings), settings))
        server.run()
        return 0 if server.started else STARTUP_FAILURE

    from uvicorn.supervisors import Multiprocess

    os.environ[_WORKER_ENV] = json.dumps(
        {
            "config_file": str(config_file) if config_file else None,
            "tracking_flags": dict(tracking_flags),
            "server_flags": dict(server_flags),
            "model": model,
        }
    )
    metrics_dir = tempfile.mkdtemp(prefix="trackcodec-metrics-") if settings.metrics else None
    if metrics_dir is not None:
        os.environ[MULTIPROC_ENV] = metrics_dir
    try:
        ucfg = uvicorn_config("trackcodec.server.runner:worker_app", settings, factory=True)
        sock = ucfg.bind_socket()
        supervisor = Multiprocess(ucfg, sockets=[sock])
        supervisor.run()
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    failed = any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes)
    return STARTUP_FAILURE if failed else 0
