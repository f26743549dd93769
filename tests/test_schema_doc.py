"""docs/schema.md is generated from the models and views: stale or undescribed columns fail.
(The example queries it lists run on both engines against the partner gold in
test_research_partners.py.)"""
from pipeline.store.schema_doc import SCHEMA_MD, render_schema, undocumented


def test_schema_doc_is_current():
    assert SCHEMA_MD.read_text("utf-8") == render_schema(), \
        "docs/schema.md is stale: run .venv/bin/python -m pipeline.store.schema_doc"


def test_every_column_of_every_table_and_view_is_described():
    assert undocumented() == [], "describe these with doc= on the column or in schema_doc.COLUMN_DOCS"
