"""A run's figures in the Prometheus text exposition format (version 0.0.4), for
node_exporter's textfile collector: sources by state, requests, bytes, articles, mentions,
claims, pages held, durations, and each source's state.

Pure: `render_metrics` takes a `RunResult` and the time, returns the text; writing it
(atomically, so the collector never reads half a file) is `Syndicate.write_metrics`'s.
Every value is a gauge: the file describes the last run, and is replaced by the next.

Must not: read the database, the clock or the network.
"""
from __future__ import annotations

from datetime import datetime

from .types import RunResult

PREFIX = "syndicate"
SOURCE_STATES = ("ok", "failed", "degraded", "skipped", "interrupted")
OUTCOMES = ("ok", "failed", "degraded", "interrupted")


def _label(value: str) -> str:
    """A label value as the format wants it: backslash, double quote and newline escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return repr(float(value)) if isinstance(value, float) else str(int(value))


class _Text:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def metric(self, name: str, help_text: str, samples: list[tuple[dict[str, str], float]]) -> None:
        full = f"{PREFIX}_{name}"
        self.lines += [f"# HELP {full} {help_text}", f"# TYPE {full} gauge"]
        for labels, value in samples:
            tags = ",".join(f'{k}="{_label(v)}"' for k, v in labels.items())
            self.lines.append(f"{full}{{{tags}}} {_number(value)}" if tags else f"{full} {_number(value)}")


def render_metrics(result: RunResult, now: datetime) -> str:
    """The run's metrics text (ends with a newline)."""
    out = _Text()
    summary = result.summary()
    out.metric("run_timestamp_seconds", "When the last run finished (Unix time).",
               [({}, (result.finished_at or now).timestamp())])
    duration = (result.finished_at - result.started_at).total_seconds() \
        if result.started_at and result.finished_at else 0.0
    out.metric("run_duration_seconds", "How long the last run took.", [({}, float(duration))])
    out.metric("run_outcome", "The last run's outcome: 1 for the one that applies (exit status 0, 1, 3, 130).",
               [({"outcome": o}, int(result.outcome == o)) for o in OUTCOMES])
    states = [r.state for r in result.sources]
    out.metric("run_sources", "Sources of the last run by state (skipped: not due).",
               [({"state": s}, states.count(s)) for s in SOURCE_STATES])
    out.metric("run_registry_errors", "Partner files that could not be read.", [({}, len(result.registry_problems))])
    for key, help_text in (("requests", "HTTP requests made (robots.txt and retries included)."),
                           ("not_modified", "Requests answered 304 Not Modified."),
                           ("retries", "Requests retried."),
                           ("bytes", "Body bytes received (decoded)."),
                           ("articles_seen", "Article pages listed by the partners' feeds, sitemaps and indexes."),
                           ("new_articles", "Articles stored for the first time."),
                           ("new_revisions", "New versions of stored articles."),
                           ("new_mentions", "Sentences of the new versions stored."),
                           ("new_claims", "Claims created by clustering."),
                           ("pages_held", "Pages whose suspicious new version was held aside.")):
        out.metric(f"run_{key}", help_text, [({}, summary.get(key, 0))])
    ran = [r for r in result.sources if not r.skipped]
    out.metric("source_state", "Each source's state in the last run (1 for its state).",
               [({"source": r.source_id, "state": r.state}, 1) for r in result.sources])
    out.metric("source_duration_seconds", "Time each source's harvest took.",
               [({"source": r.source_id}, float(r.duration)) for r in ran])
    out.metric("source_new_articles", "New articles of each source.",
               [({"source": r.source_id}, r.new_articles) for r in ran])
    out.metric("source_pages_held", "Pages of each source held aside in the last run.",
               [({"source": r.source_id}, r.held) for r in ran])
    return "\n".join(out.lines) + "\n"
