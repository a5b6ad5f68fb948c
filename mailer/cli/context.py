"""What every command shares: the settings (loaded once, lazily) and the consoles."""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

if TYPE_CHECKING:
    import sqlalchemy as sa

    from mailer.app import Mailer
    from mailer.config import Settings
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


def print_json_array(items: Iterable[object]) -> None:
    """Write ``items`` as ``print_json`` writes a list, one item as it comes: a listing of
    any size starts at once and is never held whole."""
    write = sys.stdout.write
    first = True
    for item in items:
        shown = json.dumps(item, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        write(("[\n  " if first else ",\n  ") + shown)
        first = False
    write("[]\n" if first else "\n]\n")


@dataclass
class AppContext:
    """The command line's handle on the application object, made once the options are read."""

    config_path: Path | None

    @cached_property
    def mailer(self) -> Mailer:
        from mailer.app import Mailer
        from mailer.cli.database import say_created
        from mailer.config import load_settings

        settings = load_settings(self.config_path)
        # Outside a project folder (no config file) a new database lands in the current
        # folder unasked: the command says so the first time.
        return Mailer(
            settings, on_database_created=say_created if settings.source is None else None
        )

    @property
    def settings(self) -> Settings:
        return self.mailer.settings

    @property
    def renderer(self) -> Renderer:
        return self.mailer.renderer

    @property
    def engine(self) -> sa.Engine:
        return self.mailer.engine

    @property
    def database_url(self) -> str | None:
        """The database's URL once the settings are loaded (to name it in an error)."""
        return self.settings.database.url if "mailer" in self.__dict__ else None

    def close(self) -> None:
        if "mailer" in self.__dict__:
            self.mailer.close()


def app_context(ctx: typer.Context) -> AppContext:
    obj = ctx.find_root().obj
    assert isinstance(obj, AppContext)
    return obj
