"""The application object: what every action needs, built once per process and shared by
every face (the command line, the public pages, the admin app, the API).

Each part is made on first use, so a command that never touches the database or renders
nothing pays for neither. Tests build one with their own settings, clock and environment.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from mailer.clock import Clock, utc_now
from mailer.config import Settings

if TYPE_CHECKING:
    import sqlalchemy as sa

    from mailer.delivery.transports.base import Transport
    from mailer.render.pipeline import Renderer


@dataclass
class Mailer:
    settings: Settings
    clock: Clock = utc_now
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    on_database_created: Callable[[sa.Engine], None] | None = None
    """Told when opening the database created it (the command line says where it is)."""

    @cached_property
    def engine(self) -> sa.Engine:
        """The database, migrated to the newest schema on first use."""
        from mailer.db.migrate import open_database

        return open_database(self.settings.database.url, self.on_database_created)

    @cached_property
    def renderer(self) -> Renderer:
        from mailer.render.pipeline import Renderer

        return Renderer(self.settings)

    @cached_property
    def signing_key(self) -> bytes:
        """The key that signs links in mail (unsubscribe, preferences, confirmation)."""
        from mailer.signing import load_secret_key

        return load_secret_key(
            self.settings.web.secret_key_env, self.settings.paths.var, self.environ
        )

    def transport(self, name: str | None = None) -> Transport:
        """A new transport (the default one unless named); the caller closes it."""
        from mailer.delivery.transports.factory import make_transport

        return make_transport(name or self.settings.transport.default, self.settings, self.environ)

    def close(self) -> None:
        """Close pooled database connections before the process (or the test) moves on."""
        if "engine" in self.__dict__:
            self.engine.dispose()
