"""The run lock: one writing process at a time on a database, on SQLite and PostgreSQL alike.

A row in `run_lock` (one per lock name) says who holds it: purpose, pid, host, when it was
taken, a heartbeat refreshed every few seconds by a thread of the holder, and the id of
the run it records. Taking it is an INSERT (a second process gets a unique-key conflict
and reads the holder instead), releasing it a DELETE of our own token. A holder that is
gone is recovered without an operator: on the same host when its pid no longer exists
(kill -9, a crash), elsewhere when its heartbeat is older than `STALE_AFTER`. The take-over
is an UPDATE conditioned on the old token, so two processes recovering at once cannot both
win, and the run the dead holder left `running` is marked `abandoned`.

Why a row and not an advisory lock: SQLite has none across processes, and a row names its
holder, which is what the operator needs to read ("held by pid 4242 on cron-1 since ...").
Readers (digest, export, sources, claims show) never take it.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError, OperationalError

from ..errors import LockHeld, StoreError
from ._base import StoreBase, _iso
from .models import RunLockRow, RunRow

log = logging.getLogger("syndicate")
LOCK_NAME = "run"
HEARTBEAT_EVERY = 5.0  # seconds
STALE_AFTER = timedelta(seconds=60)  # a holder on another host silent this long is gone
# On our own host the pid says whether the holder lives: a live one is never taken over for a
# late heartbeat (it may be suspended with Ctrl-Z, or busy in a long write); this bound only
# guards against its pid having been reused by another program.
STALE_AFTER_SAME_HOST = timedelta(minutes=30)
HOST = socket.gethostname()


@dataclass(frozen=True, slots=True)
class LockHolder:
    purpose: str
    pid: int
    host: str
    acquired_at: datetime
    heartbeat_at: datetime
    run_id: int | None

    def describe(self, now: datetime | None = None) -> str:
        now = now or datetime.now(timezone.utc)
        ago = max(0, int((now - self.heartbeat_at).total_seconds()))
        return (f"{self.purpose} (pid {self.pid} on {self.host}, since {_iso(self.acquired_at)}, "
                f"last heartbeat {ago} s ago)")


class RunLock:
    """A lock this process holds. A daemon thread refreshes the heartbeat; `lost` is set if
    another process took the lock over (our heartbeat went stale). `release()` is idempotent."""

    def __init__(self, store: "LockMixin", token: str, holder: LockHolder):
        self.store = store
        self.token = token
        self.holder = holder
        self.lost = threading.Event()
        self.on_lost: Callable[[], None] | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="syndicate-lock-heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._done.wait(HEARTBEAT_EVERY):
            try:
                if not self.store._heartbeat(self.token):
                    log.error("the run lock was taken over by another process")
                    self.lost.set()
                    if self.on_lost is not None:
                        self.on_lost()
                    return
            except Exception as e:  # a busy database: try again at the next beat
                log.warning("run lock heartbeat failed: %s", e)

    def release(self) -> None:
        if self._done.is_set():
            return
        self._done.set()
        self._thread.join(timeout=HEARTBEAT_EVERY + 5)
        self.store._release(self.token)
        if self.store._held_token == self.token:
            self.store._held_token = None

    def __enter__(self) -> "RunLock":
        return self

    def __exit__(self, *exc) -> None:
        self.release()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return True
    try:  # a zombie (killed, not yet reaped by its parent) is gone too
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def _holder(row: RunLockRow) -> LockHolder:
    return LockHolder(row.purpose, row.pid, row.host, row.acquired_at, row.heartbeat_at, row.run_id)


def holder_is_gone(holder: LockHolder, now: datetime) -> bool:
    if holder.host == HOST:
        return not _pid_alive(holder.pid) or now - holder.heartbeat_at > STALE_AFTER_SAME_HOST
    return now - holder.heartbeat_at > STALE_AFTER


class LockMixin(StoreBase):
    _held_token: str | None = None

    def lock_holder(self) -> LockHolder | None:
        with self.session() as s:
            row = s.get(RunLockRow, LOCK_NAME)
            return _holder(row) if row is not None else None

    def try_lock(self, purpose: str) -> tuple[RunLock | None, LockHolder | None]:
        """(the lock, None) when taken, (None, its live holder) when another process has it."""
        token = uuid.uuid4().hex
        for attempt in range(20):
            now = datetime.now(timezone.utc)
            mine = dict(token=token, purpose=purpose, pid=os.getpid(), host=HOST, acquired_at=now,
                        heartbeat_at=now, run_id=None)
            try:
                with self.session() as s:
                    row = s.get(RunLockRow, LOCK_NAME)
                    if row is None:
                        s.add(RunLockRow(name=LOCK_NAME, **mine))
                    else:
                        holder = _holder(row)
                        if not holder_is_gone(holder, now):
                            return None, holder
                        taken = s.execute(update(RunLockRow).where(RunLockRow.name == LOCK_NAME,
                                                                   RunLockRow.token == row.token).values(**mine))
                        if taken.rowcount != 1:
                            continue  # another process recovered it first: look again
                        if holder.run_id is not None:
                            s.execute(update(RunRow).where(RunRow.id == holder.run_id, RunRow.status == "running")
                                      .values(status="abandoned"))
                        log.warning("took over the run lock from %s, whose process is gone", holder.describe(now))
            except (IntegrityError, OperationalError):
                # IntegrityError: another process inserted first; OperationalError: SQLite
                # refused to upgrade a read snapshot to a write (busy). Either way: look again.
                time.sleep(0.05 * (attempt + 1))
                continue
            self._held_token = token
            return RunLock(self, token, LockHolder(purpose, os.getpid(), HOST, now, now, None)), None
        raise StoreError("could not take the run lock: the database stayed busy")

    def acquire_lock(self, purpose: str, *, wait: bool = False, poll: float = 0.5,
                     on_wait: Callable[[LockHolder], None] | None = None,
                     stop: threading.Event | None = None) -> RunLock:
        """The run lock, or LockHeld naming the holder. With `wait`, poll until it is free
        (or `stop` is set: LockHeld again); `on_wait` is told the holder once."""
        told = False
        while True:
            lock, holder = self.try_lock(purpose)
            if lock is not None:
                if stop is not None:  # two writers at once must not go on: stop ours
                    lock.on_lost = stop.set
                return lock
            if not wait or (stop is not None and stop.is_set()):
                raise LockHeld(holder)
            if on_wait is not None and not told:
                on_wait(holder)
                told = True
            if stop is not None:
                stop.wait(poll)
            else:
                time.sleep(poll)

    def _heartbeat(self, token: str) -> bool:
        with self.session() as s:
            res = s.execute(update(RunLockRow).where(RunLockRow.name == LOCK_NAME, RunLockRow.token == token)
                            .values(heartbeat_at=datetime.now(timezone.utc)))
            return res.rowcount == 1

    def _release(self, token: str) -> None:
        for attempt in range(5):
            try:
                with self.session() as s:
                    s.execute(delete(RunLockRow).where(RunLockRow.name == LOCK_NAME, RunLockRow.token == token))
                return
            except OperationalError as e:  # busy: the lock must not outlive us
                log.warning("releasing the run lock: %s", e)
                time.sleep(0.2 * (attempt + 1))

    def _attach_run(self, s, run_id: int) -> None:
        """Record in the lock row which run its holder is making (for `abandoned`)."""
        if self._held_token is not None:
            s.execute(update(RunLockRow).where(RunLockRow.name == LOCK_NAME, RunLockRow.token == self._held_token)
                      .values(run_id=run_id))
