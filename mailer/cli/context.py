"""What every command shares: the settings (loaded once, lazily) and the consoles."""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from mailer.config import Settings, load_settings

if TYPE_CHECKING:
    import sqlalchemy as sa

    from mailer.render.pipeline import Renderer


def out_console() -> Console:
    # Built per call so output follows sys.stdout as it is now (tests capture it).
    return Console(file=sys.stdout, soft_wrap=True, highlight=False)


def err_console() -> Console:
    return Console(file=sys.stderr, soft_wrap=True, highlight=False)


@contextmanager
def loaded_objects_frozen() -> Iterator[None]:
    """For a long run (a send, the emulator, the worker): what is loaded by now (modules,
    settings, the engine: tens of thousands of objects that live as long as the process) is
    set aside from the garbage collector. Otherwise every full collection walks them again,
    and a send triggers one every few batches: a fifth of a send's time went there."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@dataclass
class AppContext:
    config_path: Path | None

    @cached_property
    def settings(self) -> Settings:
        return load_settings(self.config_path)

    @cached_property
    def renderer(self) -> Renderer:
        # Imported here, like every heavy module a command needs: a command that never
        # renders (an import, a list) should not pay for loading the render pipeline.
        from mailer.render.pipeline import Renderer

        return Renderer(self.settings)

    @cached_property
    def engine(self) -> sa.Engine:
        """The database, migrated to the newest schema on first use."""
        from mailer.db.migrate import open_database

        return open_database(self.settings.database.url)

    @property
    def database_url(self) -> str | None:
        """The database's URL once the settings are loaded (to name it in an error)."""
        return self.settings.database.url if "settings" in self.__dict__ else None

    def close(self) -> None:
        """Close pooled database connections before the process (or the test) moves on."""
        if "engine" in self.__dict__:
            self.engine.dispose()


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppContext)
    return obj
