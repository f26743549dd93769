"""`syndicate browse`: the SQLite database in Datasette, read-only, with metadata (titles,
descriptions of every table, view and column, each partner's name and homepage), facets,
full-text search on sentences and canned queries.

Safe to run on a researcher's machine, where any web page the researcher visits can send
requests to it:
- every SQL query has a time limit (`QUERY_MS`, Datasette's), SQLite may use at most
  `HEAP_BYTES` of memory in the process (`PRAGMA hard_heap_limit`) and build no value over
  `VALUE_BYTES` (`SQLITE_LIMIT_LENGTH`: more than any stored value, far less than a memory
  bomb), and the functions that exist to make large or dangerous values are refused
  (`DENIED_FUNCTIONS`: randomblob, zeroblob, fts3_tokenizer, load_extension);
- a request whose Host header is not the address it was served on is refused (400), so a
  web page cannot reach it through DNS rebinding;
- only GET and HEAD are served: a POST, PUT, DELETE (an insert or write endpoint) is 403.

Owns the Datasette configuration; datasette and uvicorn (the `research` extra) are imported
here only. Must not: write to the database (Datasette opens a file database read-only), or
render partner-supplied text as HTML (names in descriptions are escaped).
"""
from __future__ import annotations

import html
import ipaddress
import socket
import sqlite3
from pathlib import Path

from .errors import ConfigError

QUERY_MS = 1000
HEAP_BYTES = 512 * 1024 * 1024
VALUE_BYTES = 16 * 1024 * 1024  # a stored page or snapshot is at most 10 MiB (the fetch size cap)
DENIED_FUNCTIONS = frozenset({"randomblob", "zeroblob", "fts3_tokenizer", "load_extension"})
READ_METHODS = ("GET", "HEAD")

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


def limit_connection(conn: sqlite3.Connection) -> None:
    """The per-query limits on one of Datasette's connections (see the module docstring)."""
    def authorize(action, arg1, arg2, db_name, source):  # noqa: ANN001
        if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in DENIED_FUNCTIONS:
            return sqlite3.SQLITE_DENY
        return sqlite3.SQLITE_OK

    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, VALUE_BYTES)
    conn.execute(f"PRAGMA hard_heap_limit={HEAP_BYTES}")
    conn.set_authorizer(authorize)


def allowed_host(header: str, bound: str, port: int) -> bool:
    """Whether a request's Host header names the address the server is bound to (with its
    port): on loopback, also `localhost` and the other loopback literals; bound to every
    interface (0.0.0.0, ::), any IP literal, `localhost` and this machine's names. A name
    anyone's DNS could point here (rebinding) is refused unless it is the one given to --host."""
    host, sep, rest = header.strip().lower().rpartition(":")
    if not sep or "]" in rest:  # no port, or an IPv6 literal without one
        host, rest = header.strip().lower(), ""
    if (rest or "80") != str(port):
        return False
    host = host.strip("[]").rstrip(".")
    bound = bound.strip("[]").lower().rstrip(".")
    if host == bound:
        return True
    try:
        bound_ip = ipaddress.ip_address(bound)
    except ValueError:
        bound_ip = ipaddress.ip_address("127.0.0.1") if bound == "localhost" else None
    if bound_ip is None:
        return False
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        ip = None
    if bound_ip.is_unspecified:
        return ip is not None or host in ("localhost", socket.gethostname().lower(), socket.getfqdn().lower())
    if bound_ip.is_loopback:
        return host == "localhost" or (ip is not None and ip.is_loopback)
    return ip == bound_ip


def guard(app, host: str, port: int):
    """The ASGI app behind the Host check and the read-only method check."""
    async def guarded(scope, receive, send):
        if scope["type"] == "http":
            header = dict(scope.get("headers") or ()).get(b"host")
            if header is not None and not allowed_host(header.decode("latin-1"), host, port):
                return await _refuse(send, 400, "unexpected Host header: this server answers only to the "
                                                "address it was started on")
            if scope.get("method", "GET") not in READ_METHODS:
                return await _refuse(send, 403, "read-only: syndicate browse serves GET requests only")
        await app(scope, receive, send)
    return guarded


async def _refuse(send, status: int, message: str) -> None:
    body = (message + "\n").encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


def make_app(db_path: Path, sources: list[dict]):
    """The Datasette instance, started (startup hooks run), its connections limited."""
    try:
        from datasette import hookimpl
        from datasette.app import Datasette
        from datasette.plugins import pm
        from datasette.utils.asgi import Response  # noqa: F401 (checks the install is whole)
    except ImportError as e:
        raise ConfigError("browse needs Datasette: pip install 'syndicate[research]'") from e
    import asyncio
    import types

    if not pm.has_plugin("syndicate-limits"):  # a Datasette plugin is a module with hook functions
        plugin = types.ModuleType("syndicate_limits")
        plugin.prepare_connection = hookimpl(lambda conn, database, datasette: limit_connection(conn))
        pm.register(plugin, name="syndicate-limits")
    ds = Datasette([str(db_path)], metadata=datasette_metadata(db_path.stem, sources),
                   settings={"default_page_size": 50, "facet_time_limit_ms": 500, "sql_time_limit_ms": QUERY_MS})
    asyncio.run(ds.invoke_startup())
    return ds


def serve(db_path: Path, sources: list[dict], *, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Serve until interrupted."""
    import uvicorn

    ds = make_app(db_path, sources)
    uvicorn.run(guard(ds.app(), host, port), host=host, port=port, log_level="warning", lifespan="on")
