"""issue 12 - views, citations table, mention provenance, full-text search

- `mentions.article_id` and `mentions.source_id`: a sentence names its article and partner
  directly (backfilled from its revision), so queries no longer join through
  `articles.current_revision_id` to know where a sentence comes from.
- `citations`: one row per reference a sentence carries (until now only a JSON list in
  `mentions.citations`, readable only with engine-specific JSON functions), with its kind:
  `footnote`, `inline`, or `promotional` (a link to the partner's own site, or any link in
  a sentence labelled promo). Backfilled from the JSON lists.
- Views `claim_sources`, `claim_summary`, `faq_answers`, `article_changes` in SQL both
  SQLite and PostgreSQL run (no JSON functions, no string aggregation).
- Full-text search: SQLite FTS5 tables `mentions_fts` and `faq_fts` (external content,
  kept in step by triggers); PostgreSQL GIN indexes on `to_tsvector('english', ...)`.

For later migrations: on SQLite, a batch ALTER that recreates `mentions` or `faq_entries`
drops their FTS triggers, and one that renames a table the views read fails while the views
exist; drop the views (and recreate triggers) around such a change.

Revision ID: 0005
Revises: 0004
"""
import json
from urllib.parse import urlsplit

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


# The view definitions as of this revision (pipeline/store/_research.py documents them).
VIEWS = {
    "claim_sources": """
SELECT c.id AS claim_id, c.canonical_text AS canonical_text,
       m.source_id AS site, s.name AS site_name,
       m.article_id AS article_id, a.url AS article_url, a.title AS article_title,
       m.revision_id AS revision_id, r.number AS revision,
       m.id AS mention_id, m.position AS position, m.display AS sentence,
       cm.method AS method, cm.score AS score,
       a.published AS published, r.fetched_at AS fetched_at, a.first_seen_at AS article_first_seen_at
FROM claims c
JOIN claim_members cm ON cm.claim_id = c.id
JOIN mentions m ON m.id = cm.mention_id
JOIN articles a ON a.id = m.article_id AND a.current_revision_id = m.revision_id
JOIN revisions r ON r.id = m.revision_id
JOIN sources s ON s.id = m.source_id
WHERE c.status = 'active'""",
    "claim_summary": """
SELECT c.id AS claim_id, c.canonical_text AS canonical_text,
       COUNT(DISTINCT m.source_id) AS partners, COUNT(m.id) AS mentions,
       MIN(a.published) AS first_published,
       (SELECT MIN(r2.fetched_at) FROM claim_members cm2
          JOIN mentions m2 ON m2.id = cm2.mention_id
          JOIN revisions r2 ON r2.id = m2.revision_id
        WHERE cm2.claim_id = c.id) AS first_seen,
       MAX(a.last_fetched_at) AS last_seen
FROM claims c
JOIN claim_members cm ON cm.claim_id = c.id
JOIN mentions m ON m.id = cm.mention_id
JOIN articles a ON a.id = m.article_id AND a.current_revision_id = m.revision_id
WHERE c.status = 'active'
GROUP BY c.id, c.canonical_text""",
    "faq_answers": """
SELECT f.question_id AS question_id,
       COALESCE((SELECT f2.question FROM faq_entries f2 WHERE f2.id =
                   (SELECT MIN(f3.id) FROM faq_entries f3 WHERE f3.question_id = f.question_id)),
                f.question) AS canonical_question,
       a.source_id AS site, s.name AS site_name,
       a.id AS article_id, a.url AS article_url, a.title AS article_title,
       f.revision_id AS revision_id, r.number AS revision,
       f.id AS faq_entry_id, f.position AS position, f.question AS question, f.answer AS answer,
       f.origin AS origin, a.published AS published, r.fetched_at AS fetched_at
FROM faq_entries f
JOIN revisions r ON r.id = f.revision_id
JOIN articles a ON a.id = r.article_id AND a.current_revision_id = r.id
JOIN sources s ON s.id = a.source_id""",
    "article_changes": """
SELECT a.id AS article_id, a.source_id AS site, a.url AS article_url, a.title AS article_title,
       r.id AS revision_id, r.number AS revision, r.fetched_at AS fetched_at,
       'added' AS change, m.position AS position, m.kind AS kind, m.display AS sentence
FROM revisions r
JOIN articles a ON a.id = r.article_id
JOIN revisions p ON p.article_id = r.article_id AND p.number = r.number - 1
JOIN mentions m ON m.revision_id = r.id
WHERE NOT EXISTS (SELECT 1 FROM mentions o WHERE o.revision_id = p.id AND o.text = m.text)
UNION ALL
SELECT a.id AS article_id, a.source_id AS site, a.url AS article_url, a.title AS article_title,
       r.id AS revision_id, r.number AS revision, r.fetched_at AS fetched_at,
       'removed' AS change, o.position AS position, o.kind AS kind, o.display AS sentence
FROM revisions r
JOIN articles a ON a.id = r.article_id
JOIN revisions p ON p.article_id = r.article_id AND p.number = r.number - 1
JOIN mentions o ON o.revision_id = p.id
WHERE NOT EXISTS (SELECT 1 FROM mentions m WHERE m.revision_id = r.id AND m.text = o.text)""",
}

SQLITE_FTS = [
    "CREATE VIRTUAL TABLE mentions_fts USING fts5(text, content='mentions', content_rowid='id', "
    "tokenize='porter unicode61')",
    "CREATE TRIGGER mentions_fts_ai AFTER INSERT ON mentions BEGIN "
    "INSERT INTO mentions_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER mentions_fts_ad AFTER DELETE ON mentions BEGIN "
    "INSERT INTO mentions_fts(mentions_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER mentions_fts_au AFTER UPDATE OF text ON mentions BEGIN "
    "INSERT INTO mentions_fts(mentions_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO mentions_fts(rowid, text) VALUES (new.id, new.text); END",
    "INSERT INTO mentions_fts(mentions_fts) VALUES ('rebuild')",
    "CREATE VIRTUAL TABLE faq_fts USING fts5(question, answer, content='faq_entries', content_rowid='id', "
    "tokenize='porter unicode61')",
    "CREATE TRIGGER faq_fts_ai AFTER INSERT ON faq_entries BEGIN "
    "INSERT INTO faq_fts(rowid, question, answer) VALUES (new.id, new.question, new.answer); END",
    "CREATE TRIGGER faq_fts_ad AFTER DELETE ON faq_entries BEGIN "
    "INSERT INTO faq_fts(faq_fts, rowid, question, answer) VALUES ('delete', old.id, old.question, old.answer); END",
    "CREATE TRIGGER faq_fts_au AFTER UPDATE OF question, answer ON faq_entries BEGIN "
    "INSERT INTO faq_fts(faq_fts, rowid, question, answer) VALUES ('delete', old.id, old.question, old.answer); "
    "INSERT INTO faq_fts(rowid, question, answer) VALUES (new.id, new.question, new.answer); END",
    "INSERT INTO faq_fts(faq_fts) VALUES ('rebuild')",
]
POSTGRES_FTS = [
    "CREATE INDEX ix_mentions_tsv ON mentions USING gin (to_tsvector('english', text))",
    "CREATE INDEX ix_faq_entries_tsv ON faq_entries USING gin "
    "(to_tsvector('english', question || ' ' || answer))",
]


def _host(url):
    host = (urlsplit(url or "").hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def _citation_kind(url, footnote, sentence_kind, own_hosts):
    """A frozen copy of pipeline.store._research.citation_kind as of this revision."""
    if sentence_kind == "promo" or (url and _host(url) in own_hosts):
        return "promotional"
    return "footnote" if footnote else "inline"


def upgrade() -> None:
    # Plain ADD COLUMN, no batch copy of the table on SQLite (claim_members references
    # mentions, so dropping the old copy would break foreign keys); SQLite accepts a
    # REFERENCES column added with a NULL default, but Alembic cannot emit it there.
    if op.get_bind().dialect.name == "sqlite":
        present = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("mentions")}  # see downgrade()
        if "article_id" not in present:
            op.execute(sa.text("ALTER TABLE mentions ADD COLUMN article_id INTEGER "
                               "CONSTRAINT fk_mentions_article_id REFERENCES articles (id)"))
        if "source_id" not in present:
            op.execute(sa.text("ALTER TABLE mentions ADD COLUMN source_id VARCHAR(100) "
                               "CONSTRAINT fk_mentions_source_id REFERENCES sources (id)"))
    else:
        op.add_column('mentions', sa.Column('article_id', sa.Integer(), nullable=True))
        op.add_column('mentions', sa.Column('source_id', sa.String(length=100), nullable=True))
        op.create_foreign_key('fk_mentions_article_id', 'mentions', 'articles', ['article_id'], ['id'])
        op.create_foreign_key('fk_mentions_source_id', 'mentions', 'sources', ['source_id'], ['id'])
    op.create_index(op.f('ix_mentions_article_id'), 'mentions', ['article_id'], unique=False)
    op.create_index(op.f('ix_mentions_source_id'), 'mentions', ['source_id'], unique=False)
    op.execute(sa.text("UPDATE mentions SET article_id = "
                       "(SELECT revisions.article_id FROM revisions WHERE revisions.id = mentions.revision_id)"))
    op.execute(sa.text("UPDATE mentions SET source_id = "
                       "(SELECT articles.source_id FROM articles WHERE articles.id = mentions.article_id)"))

    op.create_table('citations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mention_id', sa.Integer(), nullable=False),
    sa.Column('article_id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.String(length=100), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('url', sa.Text(), nullable=True),
    sa.Column('host', sa.String(length=300), nullable=True),
    sa.Column('footnote', sa.String(length=20), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['mention_id'], ['mentions.id'], ),
    sa.ForeignKeyConstraint(['article_id'], ['articles.id'], ),
    sa.ForeignKeyConstraint(['source_id'], ['sources.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('mention_id', 'position', name='uq_citations_mention_position')
    )
    with op.batch_alter_table('citations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_citations_mention_id'), ['mention_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_citations_article_id'), ['article_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_citations_source_id'), ['source_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_citations_kind'), ['kind'], unique=False)

    conn = op.get_bind()
    homepages = dict(conn.execute(sa.text("SELECT id, homepage FROM sources")).all())
    rows = conn.execute(sa.text(
        "SELECT m.id, m.article_id, m.source_id, m.kind, m.citations, a.url FROM mentions m "
        "JOIN articles a ON a.id = m.article_id ORDER BY m.id")).all()
    citations = []
    for mention_id, article_id, source_id, kind, raw, article_url in rows:
        items = json.loads(raw) if isinstance(raw, str) else (raw or [])
        own = {_host(homepages.get(source_id)), _host(article_url)} - {""}
        for position, c in enumerate(items):
            url = c.get("url")
            citations.append(dict(mention_id=mention_id, article_id=article_id, source_id=source_id,
                                  position=position, text=c.get("text") or "", url=url,
                                  host=_host(url) or None, footnote=c.get("footnote"),
                                  kind=_citation_kind(url, c.get("footnote"), kind, own)))
    if citations:
        table = sa.table('citations', *(sa.column(k) for k in citations[0]))
        op.bulk_insert(table, citations)

    for name, body in VIEWS.items():
        op.execute(sa.text(f"CREATE VIEW {name} AS {body}"))
    for statement in (SQLITE_FTS if conn.dialect.name == "sqlite" else POSTGRES_FTS):
        op.execute(sa.text(statement))


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for trigger in ("mentions_fts_ai", "mentions_fts_ad", "mentions_fts_au",
                        "faq_fts_ai", "faq_fts_ad", "faq_fts_au"):
            op.execute(sa.text(f"DROP TRIGGER IF EXISTS {trigger}"))
        op.execute(sa.text("DROP TABLE IF EXISTS mentions_fts"))
        op.execute(sa.text("DROP TABLE IF EXISTS faq_fts"))
    else:
        op.execute(sa.text("DROP INDEX IF EXISTS ix_mentions_tsv"))
        op.execute(sa.text("DROP INDEX IF EXISTS ix_faq_entries_tsv"))
    for name in reversed(list(VIEWS)):
        op.execute(sa.text(f"DROP VIEW IF EXISTS {name}"))
    op.drop_table('citations')
    op.drop_index(op.f('ix_mentions_source_id'), table_name='mentions')
    op.drop_index(op.f('ix_mentions_article_id'), table_name='mentions')
    if conn.dialect.name == "sqlite":
        # SQLite cannot drop a column named in a foreign key, and copying the table would
        # break claim_members' references: the columns stay, emptied (upgrade() reuses them).
        op.execute(sa.text("UPDATE mentions SET article_id = NULL, source_id = NULL"))
    else:
        op.drop_constraint('fk_mentions_source_id', 'mentions', type_='foreignkey')
        op.drop_constraint('fk_mentions_article_id', 'mentions', type_='foreignkey')
        op.drop_column('mentions', 'source_id')
        op.drop_column('mentions', 'article_id')
