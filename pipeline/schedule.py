"""Schedules an operator can trust: the systemd units of the scheduled job.

Owns the text of `syndicate.service` (a oneshot running `syndicate scheduled` in the
job's folder) and `syndicate.timer` (a calendar, persistent across downtime, with a small
random delay), quoted as systemd reads them; `write_units` writes them atomically. The job
itself (run, then digest) is `Syndicate.scheduled`'s; the cron line is in the README.

Why the service fails on a degraded partner too (exit 3): a unit's failure is what
`OnFailure=` and `systemctl --failed` show an operator, and a degraded partner is worth a
look; `SuccessExitStatus=3` in a drop-in makes it quiet, for those who prefer.

Must not: run anything, or talk to systemd (tests check the text with `systemd-analyze
verify` where it is installed).
"""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

from .errors import ConfigError
from .outfiles import atomic_write

SERVICE = "syndicate.service"
TIMER = "syndicate.timer"


def quote_arg(arg: str) -> str:
    """One command-line word as systemd reads ExecStart= (systemd.service(5), "Command
    lines"): specifiers (%) and variables ($) escaped, quoted when it holds spaces or quotes."""
    if any(ord(c) < 32 for c in arg):
        raise ConfigError(f"a control character in a command-line word: {arg!r}")
    word = arg.replace("%", "%%").replace("$", "$$")
    if word and not any(c in word for c in ' \t"\'\\;'):
        return word
    return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_units(program: Path, workdir: Path, job_args: Sequence[str], *, user: str | None = None,
                  on_calendar: str = "Mon *-*-* 06:00:00", random_delay: str = "10min") -> dict[str, str]:
    """{file name: text} of the service and the timer running `program scheduled JOB_ARGS`
    in `workdir` (both absolute paths)."""
    if not program.is_absolute() or not workdir.is_absolute():
        raise ConfigError("the program and the working folder of a systemd unit must be absolute paths")
    if any(c in on_calendar for c in "\n\r") or (user and any(c.isspace() for c in user)):
        raise ConfigError("a calendar event or user name with a line break or space")
    exec_start = " ".join(quote_arg(a) for a in (str(program), "scheduled", *job_args))
    service = f"""[Unit]
Description=Syndicate: ingest the partners, then write the week's digest
Documentation=man:systemd.service(5)
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
WorkingDirectory={str(workdir).replace("%", "%%")}
{f"User={user}" + chr(10) if user else ""}# Exit status: 0 ok; 1 a partner failed or the digest could not be written or sent;
# 3 a partner was degraded; 75 another run holds the lock; 130 interrupted (stop).
# Errors go to stderr, so to the journal: journalctl -u {SERVICE}
ExecStart={exec_start}
TimeoutStartSec=4h
KillSignal=SIGTERM
TimeoutStopSec=90
Nice=10
NoNewPrivileges=yes
PrivateTmp=yes
"""
    timer = f"""[Unit]
Description=Run Syndicate's scheduled job ({on_calendar})

[Timer]
OnCalendar={on_calendar}
Persistent=true
RandomizedDelaySec={random_delay}
Unit={SERVICE}

[Install]
WantedBy=timers.target
"""
    return {SERVICE: service, TIMER: timer}


def write_units(units: dict[str, str], folder: Path) -> list[Path]:
    """Write the units into `folder` (atomically, each); `OutputError` when it cannot."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError(f"{folder} is not a folder")
    return [atomic_write(folder / name, text) for name, text in units.items()]
