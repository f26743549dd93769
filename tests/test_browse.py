"""`syndicate browse`: Datasette started by the real command on 127.0.0.1, queried through its
JSON API: the views, a canned query's rows, facets, full-text search on sentences, metadata
with each partner's name and homepage, and a database left unchanged (read-only)."""
from __future__ import annotations

import hashlib
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

import research_data as rd

pytest.importorskip("datasette")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def browser(tmp_path):
    db = tmp_path / "research.sqlite"
    store = rd.build(f"sqlite:///{db}")
    expected = store.claims_list()
    store.close()
    before = hashlib.sha256(db.read_bytes()).hexdigest()
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "browse", "--db", str(db), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            if proc.poll() is not None:
                pytest.fail(f"browse exited: {proc.stdout.read().decode()}")
            try:
                if httpx.get(f"{base}/-/versions.json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("Datasette did not answer within 15 s")
        yield base, expected
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def _get(url: str):
    r = httpx.get(url, timeout=10)
    assert r.status_code == 200, (url, r.text[:500])
    return r.json()


def test_browse_serves_views_canned_queries_facets_and_search(browser):
    base, expected = browser
    summary = _get(f"{base}/research/claim_summary.json?_shape=array&_size=max")
    assert {r["claim_id"]: r["partners"] for r in summary} == {c.claim_id: c.partners for c in expected}
    canned = _get(f"{base}/research/claims_stated_by_3_partners.json?_shape=array")
    assert canned and [(r["claim_id"], r["partners"], sorted(r["sites"].split(","))) for r in canned] == \
        [(c.claim_id, c.partners, list(c.sites)) for c in expected if c.partners >= 3]
    answers = _get(f"{base}/research/answers_to_one_question.json?_shape=array&question_id=1")
    assert sorted(r["site"] for r in answers) == ["birch", "dune"]
    changed = _get(f"{base}/research/changed_this_week.json?_shape=array")
    assert isinstance(changed, list)  # the sample's revision is dated 2026-11-23: old by now
    found = _get(f"{base}/research/mentions.json?_search=walking&_shape=array")
    assert found and all("walk" in r["text"].lower() for r in found)
    facets = _get(f"{base}/research/mentions.json")["facet_results"]
    assert {"source_id", "kind"} <= set(facets)
    meta = _get(f"{base}/-/metadata.json")
    assert "Cedar &amp; Sons &lt;Recovery&gt;" in meta["description_html"]  # escaped, never raw
    assert "https://dune.example/" in meta["description_html"]
    tables = meta["databases"]["research"]["tables"]
    assert tables["claim_summary"]["columns"]["partners"] and tables["citations"]["description"]
