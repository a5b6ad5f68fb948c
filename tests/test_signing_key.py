"""The key that signs unsubscribe and preference links: made once, never seen empty, guarded."""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

import pytest

from mailer.errors import ConfigError
from mailer.signing import KEY_FILE_MIN_BYTES, load_secret_key, sign, verify

PROCESSES = 8
ROUNDS = 40


def _load_after(barrier: multiprocessing.synchronize.Barrier, var: str, results: object) -> None:
    barrier.wait()
    try:
        outcome = ("key", load_secret_key("UNSET_FOR_THIS_TEST", Path(var), environ={}).hex())
    except BaseException as exc:  # what went wrong is the test's finding
        outcome = ("error", f"{type(exc).__name__}: {exc}")
    results.put(outcome)  # type: ignore[attr-defined]


def test_processes_starting_together_on_a_fresh_folder_all_get_one_full_key(
    tmp_path: Path,
) -> None:
    context = multiprocessing.get_context("fork")
    for round_number in range(ROUNDS):
        var = tmp_path / f"round{round_number}" / "var"
        barrier = context.Barrier(PROCESSES)
        results = context.Queue()
        workers = [
            context.Process(target=_load_after, args=(barrier, str(var), results))
            for _ in range(PROCESSES)
        ]
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=60) for _ in workers]
        for worker in workers:
            worker.join()
        assert [kind for kind, _ in outcomes] == ["key"] * PROCESSES, outcomes
        keys = {bytes.fromhex(value) for _, value in outcomes}
        assert len(keys) == 1, f"round {round_number}: processes saw different keys"
        (key,) = keys
        assert len(key) >= KEY_FILE_MIN_BYTES
        assert (var / "secret_key").read_bytes().strip() == key
        # Nothing but the key is left behind.
        assert sorted(path.name for path in var.iterdir()) == ["secret_key"]


def test_a_new_key_file_is_private_and_stays_the_same(tmp_path: Path) -> None:
    var = tmp_path / "var"
    first = load_secret_key("UNSET", var, environ={})
    assert (var / "secret_key").stat().st_mode & 0o777 == 0o600
    assert load_secret_key("UNSET", var, environ={}) == first
    assert verify(first, "unsubscribe", sign(first, "unsubscribe", "x")) == "x"


@pytest.mark.parametrize("content", [b"", b"\n", b"   \n", b"short-key", b"a" * 31])
def test_a_key_file_too_short_to_protect_links_is_refused(tmp_path: Path, content: bytes) -> None:
    var = tmp_path / "var"
    var.mkdir()
    (var / "secret_key").write_bytes(content)
    os.chmod(var / "secret_key", 0o600)
    with pytest.raises(ConfigError, match=r"secret_key holds a key of \d+ bytes, fewer than 32"):
        load_secret_key("UNSET", var, environ={})
    assert (var / "secret_key").read_bytes() == content  # never replaced behind the user's back


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660])
def test_a_key_file_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    var = tmp_path / "var"
    var.mkdir()
    (var / "secret_key").write_bytes(b"k" * 43)
    os.chmod(var / "secret_key", mode)
    with pytest.raises(ConfigError, match=rf"can be read by other users \(mode {mode:04o}\)"):
        load_secret_key("UNSET", var, environ={})


def test_a_var_folder_that_cannot_be_made_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(ConfigError, match="cannot read or create the signing key"):
        load_secret_key("UNSET", blocker / "var", environ={})


def test_a_key_from_the_environment_wins_and_must_be_long_enough(tmp_path: Path) -> None:
    var = tmp_path / "var"
    assert load_secret_key("KEY", var, environ={"KEY": "k" * 20}) == b"k" * 20
    assert not var.exists()
    with pytest.raises(ConfigError, match=r"\$KEY is too short"):
        load_secret_key("KEY", var, environ={"KEY": "short"})
