"""The database as files for researchers: exports in JSON Lines, CSV or Parquet, and dated
snapshots (every export as CSV and Parquet, the schema, a manifest with row counts and
SHA-256 sums, and a README data card).

Owns the file formats; pyarrow (the `research` extra) is imported here only, and only for
Parquet. CSV is for spreadsheets: a text cell a spreadsheet would evaluate as a formula gets
a leading `'`; JSON Lines and Parquet keep every value as stored. Must not: query the database itself (it takes the store's export rows), or put
anything in a snapshot that is not derived from the data (no wall-clock time), so that two
snapshots of an unchanged database are byte-identical.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from pathlib import Path
from typing import IO, Iterable

from .errors import ConfigError

FORMATS = ("jsonl", "csv", "parquet")
PROJECT_ROOT = Path(__file__).resolve().parents[1]


# A cell a spreadsheet would read as a formula (or, after a tab or carriage return, might):
# the OWASP "CSV injection" list. Partner text starts so more often than one would think
# ("- 5 mg a day", "+1 for walking", "@clinic says", "=HYPERLINK(...)").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> str:
    """A CSV cell: lists and objects as JSON, null as empty; text a spreadsheet would
    evaluate gets a leading `'` (the OWASP rule), so that opening the file runs nothing;
    carriage returns become line breaks. Numbers are written as they are (-3 is a number,
    not a formula)."""
    if value is None:
        return ""
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, str):
        # a lone carriage return would end the row for a reader (the writer quotes only \n)
        cell = value.replace("\r\n", "\n").replace("\r", "\n")
        return "'" + cell if value.startswith(FORMULA_START) else cell
    return str(value)


def write_rows(rows: Iterable[dict], columns: tuple[str, ...], fmt: str, out: IO[bytes]) -> int:
    """Write export rows to a binary stream in `fmt`; returns the number of rows."""
    if fmt == "jsonl":
        n = 0
        for row in rows:
            out.write((json.dumps(row, ensure_ascii=False, default=str) + "\n").encode("utf-8"))
            n += 1
        return n
    if fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(columns)
        n = 0
        for row in rows:
            writer.writerow([_cell(row.get(c)) for c in columns])
            n += 1
        text.flush()
        text.detach()
        return n
    if fmt == "parquet":
        rows = list(rows)
        out.write(parquet_bytes(rows, columns))
        return len(rows)
    raise ConfigError(f"unknown format {fmt!r}: one of {', '.join(FORMATS)}")


def parquet_bytes(rows: list[dict], columns: tuple[str, ...]) -> bytes:
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as e:
        raise ConfigError("Parquet needs pyarrow: pip install 'syndicate[research]'") from e
    data = {c: [r.get(c) for r in rows] for c in columns}
    table = pa.table({c: pa.array(v) if any(x is not None for x in v) else pa.array(v, type=pa.string())
                      for c, v in data.items()})
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


# --- snapshots ------------------------------------------------------------------------------------

def write_snapshot(store, out_dir: Path, *, replace: bool = False) -> dict:
    """Write a dataset release of `store` into `out_dir` (new or empty; with `replace`, an
    earlier snapshot there is swapped for this one); returns the manifest. The folder appears
    whole or not at all (`outfiles.write_folder`): a full disk leaves nothing behind."""
    from .outfiles import write_folder
    from .store import EXPORT_COLUMNS
    from .store.schema_doc import render_schema

    files: dict[str, dict] = {}
    counts: dict[str, int] = {}
    for what, columns in EXPORT_COLUMNS.items():
        rows = list(store.export(what))
        counts[what] = len(rows)
        for fmt in ("csv", "parquet"):
            buf = io.BytesIO()
            write_rows(rows, columns, fmt, buf)
            files[f"{what}.{fmt}"] = dict(table=what, format=fmt, rows=len(rows), data=buf.getvalue())
    files["schema.md"] = dict(data=render_schema().encode("utf-8"))
    sources = store.source_attribution()
    span = store.time_span()
    files["README.md"] = dict(data=_data_card(counts, sources, span, store.claims_by_partners()).encode("utf-8"))
    manifest = {"dataset": "Syndicate", "span": span, "tables": counts, "sources": sources, "files": {}}
    for name in sorted(files):
        info = files[name]
        manifest["files"][name] = {k: v for k, v in info.items() if k != "data"} | dict(
            bytes=len(info["data"]), sha256=hashlib.sha256(info["data"]).hexdigest())
    out = {name: info["data"] for name, info in sorted(files.items())}
    out["manifest.json"] = (json.dumps(manifest, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
    write_folder(out_dir, out, replace=replace, is_ours=lambda folder: (folder / "manifest.json").is_file())
    return manifest


TABLE_NOTES = {
    "claims": "one row per canonical claim: its text, the partners stating it, and the provenance of its "
              "canonical sentence",
    "mentions": "one row per sentence of each article's current revision, labelled (claim, promo, question, "
                "heading, other), with its citations and claim",
    "faq": "one row per question/answer pair, with the question it answers across partners",
    "articles": "one row per article, with its dates and revisions",
    "citations": "one row per reference a sentence carries: footnote, inline link, or promotional (a link "
                 "to the partner's own site, or in a promotional sentence)",
}


def _how_well() -> str:
    """The measured quality of claim merging, as docs/dedupe.md states it."""
    doc = PROJECT_ROOT / "docs" / "dedupe.md"
    if not doc.is_file():
        return "See docs/dedupe.md in the Syndicate repository.\n"
    text = doc.read_text("utf-8")
    start = text.find("## How well")
    if start < 0:
        return "See docs/dedupe.md in the Syndicate repository.\n"
    end = text.find("\n## ", start + 3)
    section = text[start:end if end > 0 else None].split("\n", 1)[1]
    return section.strip() + "\n"


def _md(text: str) -> str:
    """Registry text in a Markdown table cell: no markup, no cell breaks, one line."""
    text = " ".join(str(text).split())
    return "".join("\\" + c if c in "\\`*_[]<>|#!" else c for c in text)


def _data_card(counts: dict, sources: list[dict], span: dict, by_partners: dict) -> str:
    lines = ["# Syndicate dataset", "",
             "Claims, FAQ answers and citations extracted from partner organisations' blog articles by "
             "Syndicate (`schema.md` describes the database), with every row attributed to its partner and article.", "",
             "## Time span", "",
             f"- articles published: {span['published_first'] or '?'} to {span['published_last'] or '?'}",
             f"- fetched by Syndicate: {span['fetched_first'] or '?'} to {span['fetched_last'] or '?'}", "",
             "## Files", "",
             "Each table as CSV (lists as JSON text) and Parquet; `schema.md` describes every table, view and "
             "column of the database; `manifest.json` gives row counts and SHA-256 sums.", "",
             "| table | rows | what |", "|---|---|---|"]
    lines += [f"| `{t}` | {counts[t]} | {TABLE_NOTES.get(t, '')} |" for t in counts]
    lines += ["", "Every row carries its provenance: `site` and `site_name` (the partner), `article_url`, "
              "`article_title`, `revision`, `published` (the partner's date) and `fetched` (when Syndicate "
              "stored it). Times are UTC.", "",
              "## How claims were merged", "",
              "Sentences labelled as claims are merged across partners when they state the same thing: "
              "exact or near-identical text, or a paraphrase judged by sentence embeddings (all-MiniLM-L6-v2) "
              "and content-word overlap; editors can merge, split and pin claims. Promotional sentences are "
              "labelled apart and never merged into claims.", "",
              "Claims by number of partners stating them: "
              + ", ".join(f"{n} partner(s): {c}" for n, c in sorted(by_partners.items())) + ".", "",
              "How well (measured on an annotated set of partner articles):", "", _how_well(),
              "## Partners (attribution)", "",
              "Each partner's text remains theirs; cite the partner and link the article.", "",
              "| id | name | homepage |", "|---|---|---|"]
    lines += [f"| `{_md(s['id'])}` | {_md(s['name'])} | {_md(s['homepage'])} |" for s in sources]
    return "\n".join(lines) + "\n"
