"""``trackcodec events``: the stored events (``export``) and their webhook delivery.

The subcommands live beside what they work on (`trackcodec.stores.cli`,
`trackcodec.webhooks.cli`); this module only groups them.
"""

from __future__ import annotations

import click

from trackcodec.stores.cli import export
from trackcodec.webhooks.cli import deliver, replay, secret, status

__all__ = ["events"]


@click.group()
def events() -> None:
    """Stored tracking events and their webhook delivery."""


for _command in (export, deliver, replay, status, secret):
    events.add_command(_command)
