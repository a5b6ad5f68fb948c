"""Writing a command's output file (``-o``) whole or not at all."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from mailer.errors import MailerError


def _checked_folder(path: Path, option: str, *, create: bool) -> None:
    if path.is_dir():
        raise MailerError(f"{option} {path}: is a folder; name the file to write")
    folder = path.parent
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MailerError(
                f"{option} {path}: cannot create the folder {folder}: {exc.strerror or exc}"
            ) from None
    elif not folder.is_dir():
        raise MailerError(f"{option} {path}: there is no folder {folder}")


@contextlib.contextmanager
def replaced(path: Path, option: str, *, create_folder: bool = False) -> Iterator[Path]:
    """A file beside ``path`` for the block to write; it takes the place of ``path`` only when
    the block succeeds, and is removed when it fails, which leaves ``path`` as it was."""
    _checked_folder(path, option, create=create_folder)
    partial = path.with_name(path.name + ".partial")
    try:
        yield partial
        os.replace(partial, path)
    except OSError as exc:
        _remove(partial)
        raise MailerError(f"{option} {path}: cannot write it: {exc.strerror or exc}") from None
    except BaseException:
        _remove(partial)
        raise


def _remove(partial: Path) -> None:
    with contextlib.suppress(OSError):
        partial.unlink(missing_ok=True)
