"""issue 17 - search means the same on both engines, and no sentence is too long for it

- The search index is built on a sentence's first 100,000 characters (an FAQ pair's likewise)
  on both engines. PostgreSQL refused to store a 1.5 MB sentence ("string is too long for
  tsvector": its GIN index expression failed on INSERT) while SQLite stored it; now both store
  it whole and index the same prefix.
- PostgreSQL: the text search configuration `syndicate_english` (the English Snowball stemmer
  without a stop-word list), so that a query word or a phrase's word is never dropped as a stop
  word: SQLite's FTS5 (porter unicode61) keeps every word, and "state of the art" now means the
  same four adjacent words on both.
- SQLite: the FTS5 triggers index `substr(text, 1, 100000)`; the rows already longer than that
  are re-indexed so. (Keep the trigger bodies and the PostgreSQL index expressions in step with
  `pipeline/store/_clean.SEARCH_CHARS` and `_research._pg_vector`.)

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

N = 100_000  # pipeline/store/_clean.SEARCH_CHARS as of this revision

TRIGGERS = ("mentions_fts_ai", "mentions_fts_ad", "mentions_fts_au", "faq_fts_ai", "faq_fts_ad", "faq_fts_au")


def _sqlite_triggers(m: str, q: str, a: str) -> list[str]:
    """The FTS5 triggers, indexing `m(text)`, `q(question)`, `a(answer)`."""
    return [
        f"CREATE TRIGGER mentions_fts_ai AFTER INSERT ON mentions BEGIN "
        f"INSERT INTO mentions_fts(rowid, text) VALUES (new.id, {m.format('new')}); END",
        f"CREATE TRIGGER mentions_fts_ad AFTER DELETE ON mentions BEGIN "
        f"INSERT INTO mentions_fts(mentions_fts, rowid, text) VALUES ('delete', old.id, {m.format('old')}); END",
        f"CREATE TRIGGER mentions_fts_au AFTER UPDATE OF text ON mentions BEGIN "
        f"INSERT INTO mentions_fts(mentions_fts, rowid, text) VALUES ('delete', old.id, {m.format('old')}); "
        f"INSERT INTO mentions_fts(rowid, text) VALUES (new.id, {m.format('new')}); END",
        f"CREATE TRIGGER faq_fts_ai AFTER INSERT ON faq_entries BEGIN "
        f"INSERT INTO faq_fts(rowid, question, answer) VALUES (new.id, {q.format('new')}, {a.format('new')}); END",
        f"CREATE TRIGGER faq_fts_ad AFTER DELETE ON faq_entries BEGIN "
        f"INSERT INTO faq_fts(faq_fts, rowid, question, answer) "
        f"VALUES ('delete', old.id, {q.format('old')}, {a.format('old')}); END",
        f"CREATE TRIGGER faq_fts_au AFTER UPDATE OF question, answer ON faq_entries BEGIN "
        f"INSERT INTO faq_fts(faq_fts, rowid, question, answer) "
        f"VALUES ('delete', old.id, {q.format('old')}, {a.format('old')}); "
        f"INSERT INTO faq_fts(rowid, question, answer) VALUES (new.id, {q.format('new')}, {a.format('new')}); END",
    ]


CUT = (f"substr({{}}.text, 1, {N})", f"substr({{}}.question, 1, {N})", f"substr({{}}.answer, 1, {N})")
WHOLE = ("{}.text", "{}.question", "{}.answer")


def _reindex_long(cut_from_whole: bool) -> list[str]:
    """Move the index entries of the rows longer than N between their whole and cut forms."""
    old, new = (WHOLE, CUT) if cut_from_whole else (CUT, WHOLE)
    m_old, q_old, a_old = (x.format("m") for x in old)
    m_new, q_new, a_new = (x.format("m") for x in new)
    long_m = f"FROM mentions m WHERE length(m.text) > {N}"
    long_f = f"FROM faq_entries m WHERE length(m.question) > {N} OR length(m.answer) > {N}"
    return [
        f"INSERT INTO mentions_fts(mentions_fts, rowid, text) SELECT 'delete', m.id, {m_old} {long_m}",
        f"INSERT INTO mentions_fts(rowid, text) SELECT m.id, {m_new} {long_m}",
        f"INSERT INTO faq_fts(faq_fts, rowid, question, answer) SELECT 'delete', m.id, {q_old}, {a_old} {long_f}",
        f"INSERT INTO faq_fts(rowid, question, answer) SELECT m.id, {q_new}, {a_new} {long_f}",
    ]


PG_CONFIG = [
    "CREATE TEXT SEARCH DICTIONARY syndicate_english_stem (TEMPLATE = snowball, Language = english)",
    "CREATE TEXT SEARCH CONFIGURATION syndicate_english (COPY = english)",
    "ALTER TEXT SEARCH CONFIGURATION syndicate_english ALTER MAPPING REPLACE english_stem "
    "WITH syndicate_english_stem",
]


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in TRIGGERS:
            op.execute(sa.text(f"DROP TRIGGER IF EXISTS {trigger}"))
        for statement in _sqlite_triggers(*CUT) + _reindex_long(cut_from_whole=True):
            op.execute(sa.text(statement))
        return
    for statement in PG_CONFIG:
        op.execute(sa.text(statement))
    op.execute(sa.text("DROP INDEX IF EXISTS ix_mentions_tsv"))
    op.execute(sa.text("DROP INDEX IF EXISTS ix_faq_entries_tsv"))
    op.execute(sa.text(f"CREATE INDEX ix_mentions_tsv ON mentions USING gin "
                       f"(to_tsvector('syndicate_english'::regconfig, left(text, {N})))"))
    op.execute(sa.text(f"CREATE INDEX ix_faq_entries_tsv ON faq_entries USING gin "
                       f"(to_tsvector('syndicate_english'::regconfig, left(question || ' ' || answer, {N})))"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for trigger in TRIGGERS:
            op.execute(sa.text(f"DROP TRIGGER IF EXISTS {trigger}"))
        for statement in _sqlite_triggers(*WHOLE) + _reindex_long(cut_from_whole=False):
            op.execute(sa.text(statement))
        return
    op.execute(sa.text("DROP INDEX IF EXISTS ix_mentions_tsv"))
    op.execute(sa.text("DROP INDEX IF EXISTS ix_faq_entries_tsv"))
    op.execute(sa.text("DROP TEXT SEARCH CONFIGURATION IF EXISTS syndicate_english"))
    op.execute(sa.text("DROP TEXT SEARCH DICTIONARY IF EXISTS syndicate_english_stem"))
    # As in 0005 (the 0005 index cannot hold a sentence whose tsvector is over 1 MB).
    op.execute(sa.text("CREATE INDEX ix_mentions_tsv ON mentions USING gin (to_tsvector('english', text))"))
    op.execute(sa.text("CREATE INDEX ix_faq_entries_tsv ON faq_entries USING gin "
                       "(to_tsvector('english', question || ' ' || answer))"))
