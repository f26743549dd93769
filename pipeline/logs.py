"""Log lines for operators: plain text on a terminal, or one JSON object per line
(`--log-format json`) for a log collector (journald, Loki, an ELK stack).

Owns the JSON formatter and the one place the command line sets up logging. A record's
`fields` (passed as `extra={"fields": {...}}`) become top-level keys beside `ts` (ISO
8601, UTC), `level`, `logger`, `event` and `message`; an exception becomes `exception`.

Must not: decide what is logged (the pipeline's modules log, the CLI tells the run's
events), or print anything itself.
"""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import IO

FORMATS = ("text", "json")
TEXT_FORMAT = "%(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines inside values are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": getattr(record, "event", None) or "log",
            "message": record.getMessage(),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update({k: v for k, v in fields.items() if k not in out})
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(fmt: str = "text", *, verbose: bool = False, stream: IO[str] | None = None) -> None:
    """Route log records to `stream` (stderr) in `fmt`: the pipeline's own records at ERROR
    and up (INFO with `verbose`: every request and decision), and the run's events, which
    the command line logs on `EVENTS` at INFO (in text it prints them itself instead)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown log format {fmt!r}; one of {', '.join(FORMATS)}")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    handler._syndicate = True  # type: ignore[attr-defined]
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_syndicate", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.ERROR)
    logging.getLogger(EVENTS).setLevel(logging.INFO)
    for noisy in ("httpx", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


EVENTS = "syndicate.events"  # the logger of the run's events (source done, errors, the summary)
