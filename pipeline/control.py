"""How a writing command runs, for the CLI: the run lock (wait for it or refuse, naming
the holder), SIGINT/SIGTERM turned into a stop event the orchestrator honours, and the
clustering an interrupted run left behind.

One signal stops the run cleanly (the orchestrator stores what was fetched and records the
run as interrupted; exit 130). A second one leaves at once, like kill -9 would, which the
database survives (one transaction per article; the next run recovers the lock). Nothing
here prints a traceback, and nothing here knows the command line library: the CLI turns
`LockHeld` and `Interrupted` into messages and exit statuses.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager
from datetime import datetime
from typing import Callable, Iterator

from .errors import LockHeld, SyndicateError

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C (also used for SIGTERM)
EXIT_LOCKED = 75  # EX_TEMPFAIL: another run holds the lock; try again later


class Interrupted(SyndicateError):
    """A signal arrived before the work started (e.g. while waiting for the lock)."""


class StopOnSignal:
    """While active, SIGINT and SIGTERM set `event` (the first) or exit at once with 130
    (the second). Outside the main thread it does nothing (signals cannot be caught there)."""

    def __init__(self, on_first: Callable[[int], None] | None = None):
        self.event = threading.Event()
        self.on_first = on_first
        self._previous: dict[int, object] = {}

    def _handle(self, signum: int, _frame) -> None:
        if self.event.is_set():
            sys.stderr.write("syndicate: second signal, leaving at once (the next run picks up from here)\n")
            exit_now(EXIT_INTERRUPTED)
        self.event.set()
        if self.on_first is not None:
            self.on_first(signum)

    def __enter__(self) -> "StopOnSignal":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()


def exit_now(code: int) -> None:
    """Exit without waiting for worker threads still blocked on a socket."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


@contextmanager
def run_lock(store, purpose: str, *, wait: bool = False, stop: threading.Event | None = None,
             on_wait: Callable[[object], None] | None = None) -> Iterator[object]:
    """Hold the database's run lock for the block. Held elsewhere: with `wait`, wait for it
    (`on_wait` is told the holder once); without, raise LockHeld naming the holder.
    `Interrupted` when `stop` is set while waiting."""
    try:
        lock = store.acquire_lock(purpose, wait=wait, stop=stop, on_wait=on_wait)
    except LockHeld as e:
        if stop is not None and stop.is_set():
            raise Interrupted("interrupted while waiting for the run lock") from e
        raise
    try:
        yield lock
    finally:
        lock.release()


def cluster_pending(store, now: datetime, say: Callable[[str], None]) -> None:
    """An interrupted run leaves claim mentions (and FAQ entries) unclustered: cluster them
    before a digest reports on them, or, when a run holds the lock (and will cluster them
    itself), say that this digest is incomplete."""
    pending = store.count_unclustered()
    if not pending:
        return
    lock, holder = store.try_lock("syndicate digest (clustering)")
    if lock is None:
        say(f"warning: {pending} claim mention(s) and FAQ entries are not clustered yet and a run is in "
            f"progress ({holder.describe()}); this digest may miss or split claims")
        return
    from .orchestrator import cluster_new_mentions
    with lock:
        say(f"clustering {pending} claim mention(s) and FAQ entries an interrupted run left")
        cluster_new_mentions(store, now)
