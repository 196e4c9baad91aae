"""``trackcodec serve``: the tracking server (``pip install 'trackcodec[server]'``).

- `TrackingServer`: the ASGI application (open and click routes, ``/healthz``,
  ``/readyz``, ``/metrics``, ``/stats``), usable under any ASGI server.
- `ServerSettings` and `load_settings`: the server's settings, from flags,
  ``TRACKCODEC_*`` variables and a TOML file.
- `run`: what the command does (uvicorn, one process or several workers).

Importing this package imports Starlette; ``import trackcodec`` never does.
"""

from __future__ import annotations

from trackcodec.server.app import TrackingServer, tracking_paths
from trackcodec.server.runner import run
from trackcodec.server.settings import AckMode, ServerSettings, load_settings

__all__ = ["AckMode", "ServerSettings", "TrackingServer", "load_settings", "run", "tracking_paths"]
