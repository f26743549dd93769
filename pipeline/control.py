"""The process side of a command, for the CLI: SIGINT and SIGTERM turned into a stop the
library API honours (`Syndicate.stop()`, or the event handed to `Syndicate.run`), and
leaving at once.

One signal stops the run cleanly (the API's run stores what was fetched and records the
run as interrupted; exit 130). A second one leaves at once, like kill -9 would, which the
database survives (one transaction per article; the next run recovers the lock). The run
lock and the order of steps are the API's (`pipeline.core`); nothing here knows the
command line library.
"""
from __future__ import annotations

import os
import signal
import sys
import threading
from typing import Callable

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells report for Ctrl-C (also used for SIGTERM)


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
