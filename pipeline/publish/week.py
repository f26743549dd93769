"""ISO weeks: which week a digest covers. Pure: `now` is always passed in."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from ..errors import ConfigError


@dataclass(frozen=True, slots=True, order=True)
class Week:
    year: int
    week: int

    @classmethod
    def parse(cls, value: str, *, now: datetime | None = None) -> "Week":
        """'2026-W47' (or '2026W47'); with `now`, also 'last' (the last complete week, the
        default: a Monday cron publishes the week that just ended) and 'this'."""
        spec = value.strip().lower()
        if spec in ("last", "this"):
            if now is None:
                raise ConfigError(f"--week {value} needs the current time")
            current = cls.containing(now)
            return current if spec == "this" else cls.containing(current.start - timedelta(days=1))
        try:
            year, _, wk = value.upper().replace("-W", "W").partition("W")
            week = cls(int(year), int(wk))
            week.start  # validates
            return week
        except ValueError as e:
            raise ConfigError(f"not an ISO week like 2026-W47, 'last' or 'this': {value!r}") from e

    @classmethod
    def containing(cls, moment: datetime) -> "Week":
        y, w, _ = moment.isocalendar()
        return cls(y, w)

    @property
    def start(self) -> datetime:
        return datetime.combine(date.fromisocalendar(self.year, self.week, 1), time(), timezone.utc)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=7)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"
