"""`syndicate browse`: the SQLite database in Datasette, read-only, with metadata (titles,
descriptions of every table, view and column, each partner's name and homepage), facets,
full-text search on sentences and canned queries.

Owns the Datasette configuration; datasette and uvicorn (the `research` extra) are imported
here only. Must not: write to the database (Datasette opens a file database read-only), or
render partner-supplied text as HTML (names in descriptions are escaped).
"""
from __future__ import annotations

import html
from pathlib import Path

from .errors import ConfigError

HIDDEN = ("alembic_version", "embeddings", "http_validators", "snapshots")
FACETS = {
    "mentions": ["source_id", "kind"],
    "citations": ["source_id", "kind"],
    "claim_sources": ["site", "method"],
    "claim_summary": ["partners"],
    "faq_answers": ["site"],
    "article_changes": ["site", "change", "kind"],
    "articles": ["source_id"],
}

# Datasette is SQLite only, so these may use SQLite's functions (group_concat, date).
CANNED_QUERIES = {
    "claims_stated_by_3_partners": {
        "title": "Claims stated by at least 3 partners",
        "description": "Each claim with the partners stating it, most partners first.",
        "sql": "SELECT s.claim_id, s.canonical_text, s.partners, group_concat(DISTINCT cs.site) AS sites,\n"
               "       s.first_seen\nFROM claim_summary s JOIN claim_sources cs ON cs.claim_id = s.claim_id\n"
               "WHERE s.partners >= 3\nGROUP BY s.claim_id\nORDER BY s.partners DESC, s.claim_id",
    },
    "changed_this_week": {
        "title": "What changed this week",
        "description": "Sentences added or removed by revisions stored since Monday (UTC).",
        "sql": "SELECT site, article_title, article_url, revision, fetched_at, change, kind, sentence\n"
               "FROM article_changes\nWHERE fetched_at >= date('now', '-6 days', 'weekday 1')\n"
               "ORDER BY fetched_at DESC, article_id, change, position",
    },
    "answers_to_one_question": {
        "title": "Answers to one question",
        "description": "Every partner's answer to one FAQ question (question_id from faq_answers).",
        "sql": "SELECT question_id, canonical_question, site, site_name, question, answer, article_url\n"
               "FROM faq_answers\nWHERE question_id = :question_id\nORDER BY site, position",
    },
}


def datasette_metadata(db_name: str, sources: list[dict]) -> dict:
    """Datasette metadata for a Syndicate database named `db_name` (its file stem)."""
    from .store.models import Base
    from .store._research import VIEW_TABLES
    from .store.schema_doc import _table_doc, column_doc

    partners = "".join(f'<li>{html.escape(s["name"])}: <a href="{html.escape(s["homepage"], quote=True)}">'
                       f'{html.escape(s["homepage"])}</a> (<code>{html.escape(s["id"])}</code>)</li>'
                       for s in sources)
    tables: dict[str, dict] = {}
    for table in Base.metadata.sorted_tables:
        tables[table.name] = {"description": _table_doc(table.name),
                              "columns": {c.name: column_doc(table.name, c) or "" for c in table.columns}}
    for view in VIEW_TABLES.values():
        tables[view.name] = {"description": view.info["doc"], "columns": {c.name: c.doc for c in view.columns}}
    for name, facets in FACETS.items():
        tables.setdefault(name, {})["facets"] = facets
    tables["mentions"].update(fts_table="mentions_fts", fts_pk="id", label_column="display")
    tables["faq_entries"].update(fts_table="faq_fts", fts_pk="id", label_column="question")
    tables["sources"]["label_column"] = "name"
    for name in HIDDEN:
        tables.setdefault(name, {})["hidden"] = True
    return {
        "title": "Syndicate",
        "description_html": "Claims, FAQ answers and citations from partner organisations' articles, each "
                            "attributed to its partner. Start with the views <code>claim_summary</code>, "
                            "<code>claim_sources</code>, <code>faq_answers</code>, <code>article_changes</code>."
                            f"<p>Partners (cite them for their text):</p><ul>{partners}</ul>",
        "databases": {db_name: {"tables": tables, "queries": CANNED_QUERIES}},
    }


def make_app(db_path: Path, sources: list[dict]):
    """The Datasette instance, started (startup hooks run)."""
    try:
        from datasette.app import Datasette
        from datasette.utils.asgi import Response  # noqa: F401 (checks the install is whole)
    except ImportError as e:
        raise ConfigError("browse needs Datasette: pip install 'syndicate[research]'") from e
    import asyncio

    ds = Datasette([str(db_path)], metadata=datasette_metadata(db_path.stem, sources),
                   settings={"default_page_size": 50, "facet_time_limit_ms": 500})
    asyncio.run(ds.invoke_startup())
    return ds


def serve(db_path: Path, sources: list[dict], *, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Serve until interrupted."""
    import uvicorn

    ds = make_app(db_path, sources)
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on")
