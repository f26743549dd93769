"""`syndicate browse`: Datasette started by the real command on 127.0.0.1, queried through its
JSON API: the views, a canned query's rows, facets, full-text search on sentences, metadata
with each partner's name and homepage, and a database left unchanged (read-only). Issue 17,
finding 9: what any web page could make the researcher's browser send to it (a memory bomb,
fts3_tokenizer, a runaway query, a request through DNS rebinding, a write) is refused, and
the server stays small and keeps answering."""
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
    log = (tmp_path / "browse.log").open("wb")  # a file, not a pipe: Datasette logs whole tracebacks
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "browse", "--db", str(db), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            if proc.poll() is not None:
                pytest.fail(f"browse exited: {(tmp_path / 'browse.log').read_text()}")
            try:
                if httpx.get(f"{base}/-/versions.json", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("Datasette did not answer within 15 s")
        yield base, expected, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
        log.close()
    assert hashlib.sha256(db.read_bytes()).hexdigest() == before


def _get(url: str):
    r = httpx.get(url, timeout=10)
    assert r.status_code == 200, (url, r.text[:500])
    return r.json()


def test_browse_serves_views_canned_queries_facets_and_search(browser):
    base, expected, _ = browser
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


def _peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return int(next(line for line in f if line.startswith("VmHWM:")).split()[1])


def _sql(base: str, sql: str):
    return httpx.get(f"{base}/research.json", params={"sql": sql}, timeout=30)


def test_browse_refuses_bombs_dangerous_functions_foreign_hosts_and_writes(browser):
    base, _, proc = browser
    port = base.rsplit(":", 1)[1]
    for sql in ("select randomblob(1000000000)", "select length(zeroblob(1000000000))",
                "select hex(fts3_tokenizer('simple'))"):
        r = _sql(base, sql)
        assert r.status_code == 400 and "not authorized" in r.json()["error"], (sql, r.text[:300])
    # a value built up from small pieces: stopped at the size limit, not by running out of memory
    bomb = "printf('%.*c', 100000, 'x')"
    for _ in range(4):
        bomb = f"replace({bomb}, 'x', 'xxxxxxxxxx')"
    r = _sql(base, f"select length({bomb})")
    assert r.status_code == 400 and "too big" in r.json()["error"], r.text[:300]
    # a query that never ends: stopped by the time limit
    r = _sql(base, "with recursive r(i) as (select 1 union all select i + 1 from r) select count(*) from r")
    assert r.status_code == 400 and "too long" in r.text
    assert _peak_rss_kib(proc.pid) < 600 * 1024  # it never held a gigabyte

    # DNS rebinding: a page on evil.example whose name now points at 127.0.0.1
    r = httpx.get(f"{base}/research.json", headers={"Host": f"evil.example:{port}"})
    assert r.status_code == 400 and "Host" in r.text
    assert httpx.get(f"{base}/research.json", headers={"Host": f"localhost:{port}"}).status_code == 200

    # writes: no insert, create or delete endpoint answers, and never with a 500
    for path in ("/research/mentions/-/insert", "/research/-/create", "/research/mentions/1/-/delete",
                 "/research/mentions", "/-/permissions"):
        for method in ("POST", "PUT", "DELETE"):
            r = httpx.request(method, base + path, json={"row": {"text": "x"}, "table": "t"})
            assert r.status_code in (403, 404, 405), (method, path, r.status_code)
    assert _sql(base, "select count(*) from mentions").json()["rows"] == [[15]]  # still answering, unchanged


@pytest.mark.parametrize("header, bound, port, ok", [
    ("127.0.0.1:8001", "127.0.0.1", 8001, True), ("localhost:8001", "127.0.0.1", 8001, True),
    ("[::1]:8001", "127.0.0.1", 8001, True), ("evil.example:8001", "127.0.0.1", 8001, False),
    ("127.0.0.1:9999", "127.0.0.1", 8001, False), ("127.0.0.1", "127.0.0.1", 8001, False),
    ("10.0.0.5:8001", "0.0.0.0", 8001, True), ("evil.example:8001", "0.0.0.0", 8001, False),
    ("docs.lan:8001", "docs.lan", 8001, True), ("10.1.1.2:8001", "10.1.1.1", 8001, False),
])
def test_host_header_must_name_the_bound_address(header, bound, port, ok):
    from pipeline.browse import allowed_host
    assert allowed_host(header, bound, port) is ok
