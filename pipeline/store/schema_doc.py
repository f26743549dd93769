"""docs/schema.md, generated from the models (models.py) and the views (_research.py).

    python -m pipeline.store.schema_doc            # rewrite docs/schema.md
    python -m pipeline.store.schema_doc --check    # exit 1 when docs/schema.md is stale

Every column needs a description: `doc=` on its mapped_column, or an entry in COLUMN_DOCS
below. tests/test_schema_doc.py fails when the file is stale or a column is undescribed, and
runs the example queries on SQLite and PostgreSQL against the partner gold.
"""
from __future__ import annotations

import sys
from pathlib import Path

from sqlalchemy import JSON, Boolean, Float, Integer, LargeBinary, String, Text

from ._research import VIEW_TABLES
from .models import Base, UTCDateTime

SCHEMA_MD = Path(__file__).resolve().parents[2] / "docs" / "schema.md"

COLUMN_DOCS = {
    "sources.id": "the partner's id: its registry file name (`sources/<id>.toml`)",
    "sources.name": "the partner's name, for attribution",
    "sources.homepage": "the partner's homepage URL",
    "sources.last_run_at": "when a run last tried this partner",
    "sources.last_success_at": "when a run last finished this partner without error",
    "sources.last_error_at": "when the last error happened",
    "sources.last_error_kind": "its kind (`connection`, `http-500`, `not-a-feed`, …)",
    "sources.last_error_message": "its message",
    "sources.last_error_url": "the URL it concerned",
    "sources.consecutive_failures": "runs in a row that failed for this partner (0 after a success)",
    "sources.last_warning_count": "how many warnings the last run had for this partner",
    "sources.last_warning": "the first of them",
    "sources.last_off_scope": "how many URLs outside the partner's fetch scope the last run met (not fetched)",
    "http_validators.url": "a URL Syndicate requested",
    "http_validators.etag": "the ETag it answered, sent back as If-None-Match",
    "http_validators.last_modified": "the Last-Modified it answered, sent back as If-Modified-Since",
    "http_validators.final_url": "where redirects ended",
    "http_validators.status": "the HTTP status of the last answer",
    "http_validators.checked_at": "when it was last requested",
    "http_validators.snapshot_sha256": "the stored body behind these validators (`snapshots.sha256`)",
    "http_validators.host": "the URL's host name, lower case, without port (a worker reads one source's hosts)",
    "snapshots.sha256": "SHA-256 of the raw body: the key",
    "snapshots.url": "the URL it was fetched from (after redirects)",
    "snapshots.status": "HTTP status",
    "snapshots.content_type": "the Content-Type header",
    "snapshots.headers": "a few response headers (content-type, etag, last-modified, content-encoding, date)",
    "snapshots.fetched_at": "when it was fetched",
    "snapshots.size": "the body's size in bytes, uncompressed",
    "snapshots.body": "the body, zlib-compressed",
    "articles.id": "the article's id",
    "articles.source_id": "its partner (`sources.id`)",
    "articles.url": "its URL (unique per partner; moved on a permanent redirect)",
    "articles.guid": "the feed entry's id (RSS guid, Atom id), when it came from a feed",
    "articles.canonical_url": "the page's `<link rel=canonical>`",
    "articles.title": "the title",
    "articles.author": "the author, as the partner gives it",
    "articles.published": "the partner's publication date (UTC; null when none is given)",
    "articles.updated": "the partner's last-modified date, when given",
    "articles.language": "the page's language, when declared",
    "articles.first_seen_at": "when Syndicate first stored the article",
    "articles.last_fetched_at": "when Syndicate last fetched or re-validated it",
    "articles.current_revision_id": "its current revision (`revisions.id`); older revisions stay",
    "revisions.id": "the revision's id",
    "revisions.article_id": "its article",
    "revisions.number": "1 for the first version stored, then 2, 3, …",
    "revisions.content_hash": "SHA-256 over the extracted sentences and FAQ: a new revision only when it changes",
    "revisions.snapshot_sha256": "the raw page it was extracted from (`snapshots.sha256`)",
    "revisions.fetched_at": "when Syndicate stored this revision",
    "revisions.partner_date": "the partner's date of this version: `published` for the first revision, "
                              "`updated`/`dateModified` for a later one when the partner moved it; the "
                              "fetch time when the partner gives no believable date",
    "revisions.date_source": "where `partner_date` comes from: `published`, `updated`, or `fetched`",
    "revisions.title": "the title in this revision",
    "revisions.text": "the article's main text in this revision",
    "mentions.id": "the sentence's id",
    "mentions.revision_id": "its revision",
    "mentions.position": "its place in the revision (0-based, reading order)",
    "mentions.text": "the sentence normalized (Unicode NFC, straight spacing, footnote markers removed)",
    "mentions.display": "the sentence as the partner wrote it",
    "mentions.kind": "its label: `claim`, `promo` (advertising, calls to action), `question`, `heading`, `other`, "
                     "or `hidden` (a claim sentence an editor said is not a claim: `hidden_sentences`)",
    "mentions.section": "the heading above it",
    "mentions.label": "a list item's leading label, such as `Tolerance` in \"Tolerance: …\"",
    "mentions.block": "the HTML block it came from: `p`, `li`, `h2`, `blockquote`, `td`, …",
    "mentions.citations": "its citations as JSON; the `citations` table has the same, one row each",
    "mentions.article_id": "its article (`articles.id`), without joining through the revision",
    "mentions.source_id": "its partner (`sources.id`)",
    "citations.id": "the citation's id",
    "citations.mention_id": "the sentence carrying it (`mentions.id`)",
    "citations.article_id": "its article",
    "citations.source_id": "its partner",
    "citations.position": "its order within the sentence",
    "citations.text": "the cited text: the footnote's reference, or the link's anchor text",
    "citations.url": "the URL cited (null for a footnote without a link)",
    "citations.host": "the URL's host, without `www.`",
    "citations.footnote": "the footnote marker (`1`), null for an inline link",
    "citations.kind": "`footnote`, `inline`, or `promotional` (a link to the partner's own site, or in a "
                      "sentence labelled promo)",
    "claims.id": "the claim's id, never reused",
    "claims.status": "`active`, `retired` (no current sentence states it) or `merged` (into `merged_into`)",
    "claims.merged_into": "the claim an editor merged this one into",
    "claims.canonical_mention_id": "the sentence whose text is the canonical text",
    "claims.canonical_text": "the claim's canonical text",
    "claims.pinned_mention_id": "the sentence an editor pinned as canonical",
    "claims.first_source_id": "the partner that stated it first",
    "claims.first_seen_at": "when Syndicate first stored a sentence of it, in any revision (UTC; kept up "
                            "to date by every run)",
    "claims.first_stated_at": "the partner's date of its earliest statement: the `partner_date` of the "
                              "first revision holding one of its sentences",
    "claims.created_at": "when the claim row was created",
    "claims.updated_at": "when its membership or text last changed",
    "claim_members.mention_id": "a claim sentence (`mentions.id`)",
    "claim_members.claim_id": "the claim it belongs to",
    "claim_members.method": "how it was placed: `exact`, `near-copy`, `paraphrase`, `new`, `carried`, "
                            "`editor-…`",
    "claim_members.score": "the similarity behind the decision",
    "claim_members.decided_at": "when",
    "faq_entries.id": "the pair's id",
    "faq_entries.revision_id": "its revision",
    "faq_entries.position": "its place in the article's FAQ",
    "faq_entries.question": "the question as the partner asks it",
    "faq_entries.answer": "the partner's answer",
    "faq_entries.origin": "where it was found: `json-ld`, `microdata`, `yoast`, `details`, `heading`",
    "faq_entries.question_id": "the same question across partners (all answers to one question share it)",
    "faq_entries.method": "how it was matched to that question",
    "faq_entries.score": "the similarity behind the match",
    "overrides.id": "the decision's id",
    "overrides.action": "`merge`, `split`, `pin` or `cannot-link` (the two claims, their members in `mention_ids` as `[[...], [...]]`, never merge)",
    "overrides.claim_id": "the claim decided on",
    "overrides.other_claim_id": "the claim merged into it (merge)",
    "overrides.mention_ids": "the sentences moved (split) or pinned (pin), as a JSON list",
    "overrides.created_at": "when the editor decided",
    "embeddings.text_sha256": "SHA-256 of the sentence text",
    "embeddings.model": "the sentence model",
    "embeddings.vector": "the vector (float32 bytes)",
    "runs.id": "the run's id",
    "runs.started_at": "when it started",
    "runs.finished_at": "when it finished",
    "runs.ok": "whether every source succeeded",
    "runs.summary": "the run summary (JSON): requests, new articles, errors, …; an interrupted run adds "
                    "`sources_not_run` and `unclustered`",
    "runs.status": "`running`, `ok`, `failed`, `interrupted` (stopped by SIGINT/SIGTERM; what was fetched is "
                   "stored) or `abandoned` (its process died; found by the run that recovered its lock)",
    "run_lock.name": "the lock's name (`run`): at most one row",
    "run_lock.token": "a random id of this holding, so that take-over and release are exact",
    "run_lock.purpose": "what holds it (`syndicate run`, `syndicate claims rebuild`, …)",
    "run_lock.pid": "the holder's process id",
    "run_lock.host": "the holder's host name",
    "run_lock.acquired_at": "when it was taken",
    "run_lock.heartbeat_at": "refreshed every few seconds by the holder; a holder silent for 60 s is gone",
    "run_lock.run_id": "the run the holder records (`runs.id`), when it is a run",
}

INTRO = """\
# The database, for researchers

<!-- Generated by `python -m pipeline.store.schema_doc` from pipeline/store/models.py and the
views in pipeline/store/_research.py; edit those, not this file. -->

SQLite by default (`db/syndicate.sqlite`), PostgreSQL with `--db postgresql://…`; the schema
is managed by Alembic (`db/migrations/`) and every table and view below exists on both, so
`psql` users get the same views as SQLite and Datasette users (`syndicate browse`). All times
are UTC (on PostgreSQL, `timestamptz`; on SQLite, text such as `2026-11-18 14:00:00`). On
PostgreSQL a date written without an offset is read in the session's time zone: write
`'2026-11-23 00:00+00'`, or `SET TIME ZONE 'UTC'` first.

Only the current revision of an article counts in the views, exports and digest; older
revisions and their sentences stay for history (`article_changes` compares them).

Start with the views: they join the tables for you. No query below needs an engine-specific
function; `:name` is a parameter (Datasette and `sqlite3`'s `.param set` use it as written;
in `psql`, `\\set name value` and write `:'name'`).

Both engines hold the same text. Partner text is stored without terminal escape sequences
(such as OSC 52, which sets a clipboard) and without control characters other than tab and
newline (NUL included, which PostgreSQL cannot store; a carriage return is stored as a
newline); bidi marks and other format characters stay. A value longer than its bounded
column is cut to it on both engines (`articles.language` 20 characters,
`snapshots.content_type` 200, `citations.host` 300, `citations.footnote` 20); an article
whose URL is over 2,000 bytes is not stored on either (a key that long cannot be indexed).
Sentences are stored whole, however long; search covers their first 100,000 characters.

In CSV exports and snapshots (`syndicate export --format csv`, `syndicate snapshot`), a text
cell that a spreadsheet would evaluate as a formula (it starts with `=`, `+`, `-`, `@`, a tab
or a carriage return) is written with a leading `'` (the OWASP rule against CSV injection),
and carriage returns inside a cell are written as line breaks: strip the `'` when reading
the CSV as data. JSON Lines and Parquet keep every value exactly as stored.
"""

# The researcher questions of issue 12, run by tests/test_schema_doc.py on both engines.
EXAMPLE_QUERIES = [
    ("Claims stated by at least 3 partners", "claims_by_partners", """\
SELECT claim_id, canonical_text, partners, first_seen
FROM claim_summary
WHERE partners >= :min_partners
ORDER BY partners DESC, claim_id"""),
    ("All partners' answers to one question", "answers_to_question", """\
SELECT site, site_name, question, answer, article_url
FROM faq_answers
WHERE question_id = (SELECT question_id FROM faq_answers WHERE question = :question)
ORDER BY site, position"""),
    ("Claims first seen this week (`:since` is the Monday, UTC)", "claims_since", """\
SELECT claim_id, canonical_text, partners, first_seen
FROM claim_summary
WHERE first_seen >= :since
ORDER BY first_seen, claim_id"""),
    ("Which articles cite which sources (the partner's promotional links left out)", "citations", """\
SELECT c.source_id AS site, a.url AS article_url, c.kind, c.footnote, c.text, c.url
FROM citations c
JOIN mentions m ON m.id = c.mention_id
JOIN articles a ON a.id = c.article_id AND a.current_revision_id = m.revision_id
WHERE c.kind <> 'promotional'
ORDER BY site, article_url, c.mention_id, c.position"""),
    ("What changed in a revision", "revision_changes", """\
SELECT change, position, kind, sentence
FROM article_changes
WHERE article_url = :article_url AND revision = :revision
ORDER BY change, position"""),
]

SEARCH = """\
## Full-text search

`syndicate search QUERY` searches the sentences and FAQ pairs of current revisions, with one
syntax on both engines: words (each must appear, stemmed: `walk` finds `walking`; no word is
dropped as a stop word), `"quoted phrases"` (the words adjacent and in that order), `OR`
(in capitals) between alternatives (`a b OR c` is `(a and b) or c`), and `-word` or `-"a phrase"` to
exclude. A word written with inner punctuation (`covid-19`, `don't`) is the phrase of its
parts. At most 32 words and 500 characters; a search is stopped after 10 s. The index covers
the first 100,000 characters of a sentence (of a FAQ pair on PostgreSQL; of its question
and of its answer on SQLite). Stemming is Porter's on SQLite and Snowball's English on
PostgreSQL, which differ on a few rare words; SQLite also folds accents (`cafe` finds
`café`), PostgreSQL does not.

Underneath, on SQLite: the FTS5 tables `mentions_fts` (over `mentions.text`) and `faq_fts`
(over `faq_entries.question` and `answer`), kept in step by triggers; `syndicate search`
quotes every term, so a query is never read as FTS5 syntax:

```sql
SELECT m.id, m.source_id, snippet(mentions_fts, 0, '**', '**', '…', 24) AS snippet
FROM mentions_fts JOIN mentions m ON m.id = mentions_fts.rowid
WHERE mentions_fts MATCH '"resting blood pressure" NOT "daily"' ORDER BY bm25(mentions_fts);
```

On PostgreSQL: GIN indexes on `to_tsvector('syndicate_english', left(text, 100000))` (and on
question and answer); `syndicate_english` is the English configuration without a stop-word
list. Write the same expression for the index to be used:

```sql
SELECT id, source_id, ts_headline('syndicate_english', text, phraseto_tsquery('syndicate_english', 'resting blood pressure'))
FROM mentions
WHERE to_tsvector('syndicate_english', left(text, 100000))
      @@ (phraseto_tsquery('syndicate_english', 'resting blood pressure') && !! plainto_tsquery('syndicate_english', 'daily'));
```

`benchmarks/research.py` measures search, exports and snapshots on a synthetic corpus (on
2 shared cores, 50,000 sentences: a search in 6 ms median on SQLite, 24 ms on PostgreSQL).
"""


def _type(col) -> str:
    t = col.type
    for cls, name in ((UTCDateTime, "timestamp"), (Boolean, "boolean"), (Integer, "integer"), (Float, "real"),
                      (JSON, "JSON"), (LargeBinary, "bytes"), (Text, "text"), (String, "text")):
        if isinstance(t, cls):
            return name
    return type(t).__name__.lower()


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def column_doc(table: str, col) -> str | None:
    return col.doc or COLUMN_DOCS.get(f"{table}.{col.name}")


def undocumented() -> list[str]:
    """Columns of tables and views without a description."""
    missing = [f"{t.name}.{c.name}" for t in Base.metadata.sorted_tables for c in t.columns
               if not column_doc(t.name, c)]
    missing += [f"{v.name}.{c.name}" for v in VIEW_TABLES.values() for c in v.columns if not c.doc]
    return missing


def _table_doc(name: str) -> str:
    for mapper in Base.registry.mappers:
        if mapper.local_table is not None and mapper.local_table.name == name:
            doc = mapper.class_.__doc__ or ""
            return " ".join(doc.split())
    return ""


def render_schema() -> str:
    out = [INTRO, "## Views", ""]
    for view in VIEW_TABLES.values():
        out += [f"### `{view.name}`", "", view.info["doc"], "", "| column | type | description |", "|---|---|---|"]
        out += [f"| `{c.name}` | {_type(c)} | {_cell(c.doc)} |" for c in view.columns]
        out.append("")
    out += ["## Example queries", "",
            "The questions researchers asked first; tests run each of these on SQLite and PostgreSQL.", ""]
    for title, _key, sql in EXAMPLE_QUERIES:
        out += [f"**{title}**", "", "```sql", sql + ";", "```", ""]
    out += [SEARCH, "## Tables", ""]
    for table in sorted(Base.metadata.sorted_tables, key=lambda t: t.name):
        out += [f"### `{table.name}`", ""]
        doc = _table_doc(table.name)
        if doc:
            out += [doc, ""]
        out += ["| column | type | key | description |", "|---|---|---|---|"]
        for c in table.columns:
            key = ["primary key"] if c.primary_key else []
            key += [f"→ `{fk.target_fullname}`" for fk in c.foreign_keys]
            out.append(f"| `{c.name}` | {_type(c)}{'' if c.nullable or c.primary_key else ', not null'} | "
                       f"{', '.join(key)} | {_cell(column_doc(table.name, c) or '(undocumented)')} |")
        uniques = [", ".join(col.name for col in con.columns) for con in table.constraints
                   if con.__class__.__name__ == "UniqueConstraint"]
        if uniques:
            out += ["", "Unique together: " + "; ".join(f"({u})" for u in sorted(uniques)) + "."]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = render_schema()
    if "--check" in argv:
        current = SCHEMA_MD.read_text("utf-8") if SCHEMA_MD.is_file() else ""
        if current != text:
            print(f"{SCHEMA_MD} is stale: run python -m pipeline.store.schema_doc", file=sys.stderr)
            return 1
        return 0
    SCHEMA_MD.write_text(text, "utf-8")
    print(f"wrote {SCHEMA_MD}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
