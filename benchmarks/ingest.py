"""Ingestion benchmark: N synthetic partner sites on loopback, two runs.

    python benchmarks/ingest.py [--sites 200] [--articles 20] [--workers N] [--json]

Serves N sites from a separate process (so the server does not compete with the
pipeline for the GIL), each on a loopback address of its own (127.0.1.1, 127.0.1.2, ...)
like real partners on their own hosts: robots.txt, a homepage (~50 KB) advertising an RSS
feed, a summary-only feed with M items, and M article pages of 50-150 KB (navigation,
sidebar, inline CSS/JS, footer around ~600 words of article text). Every resource has an
ETag and Last-Modified and answers conditional GETs.

Then runs the pipeline's ingestion (`run_sources`) twice into a fresh SQLite file and
prints: first-run wall time and articles/s (and how much of it was extraction), second-run
(nothing changed) wall time, request count and 304s, and peak memory of this process.
Claim clustering is not part of ingestion and is skipped unless --with-clustering.

Aims (issue 3): second run of 200 sources under 5 s; first run limited by extraction.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from email.utils import formatdate
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LAST_MODIFIED = formatdate(1_790_000_000, usegmt=True)

WORDS = ("recovery treatment support family therapy counseling program patients clinical outpatient "
         "residential withdrawal medication sleep exercise nutrition relapse prevention community "
         "insurance admissions evidence research brain dopamine receptors tolerance dependence").split()
SENTENCES = [
    "Opioids bind to receptors in the brain that control pain and reward.",
    "Regular exercise can improve sleep quality during early recovery.",
    "Medication-assisted treatment combines medication with counseling and behavioral therapy.",
    "Withdrawal symptoms usually peak within the first few days after the last dose.",
    "Family involvement is associated with better outcomes in adolescent treatment.",
    "Long-term alcohol use can change how the brain responds to stress.",
    "Relapse is common and does not mean that treatment has failed.",
    "Naloxone can reverse an opioid overdose when given quickly.",
    "Cognitive behavioral therapy helps people recognise and change patterns of thinking.",
    "Nutrition plays an important role in physical recovery from substance use.",
]


# --- the synthetic sites ---------------------------------------------------------------------

def host_of(i: int) -> str:
    return f"127.0.{1 + i // 250}.{1 + i % 250}"


def _filler(rng: random.Random, size: int) -> str:
    """Chrome that real themes carry: menus, sidebars, inline CSS and JS."""
    parts, total = [], 0
    while total < size:
        kind = rng.randrange(3)
        if kind == 0:
            chunk = "<ul class='menu'>" + "".join(
                f"<li><a href='/topic/{rng.choice(WORDS)}-{rng.randrange(999)}/'>{rng.choice(WORDS).title()}</a></li>"
                for _ in range(20)) + "</ul>"
        elif kind == 1:
            chunk = "<style>" + "".join(f".c{rng.randrange(99999)}{{margin:{rng.randrange(40)}px;color:#"
                                        f"{rng.randrange(0xffffff):06x}}}" for _ in range(40)) + "</style>"
        else:
            chunk = "<script>var cfg=" + json.dumps({rng.choice(WORDS): rng.randrange(10**6) for _ in range(30)}) \
                    + ";</script>"
        parts.append(chunk)
        total += len(chunk)
    return "".join(parts)


_FILLERS: list[str] = []


def _filler_block(rng: random.Random, size: int) -> str:
    """Chrome from a pool made once, so that serving a page costs the server almost nothing
    (the benchmark measures the pipeline, not the fixture server)."""
    if not _FILLERS:
        pool_rng = random.Random(42)
        _FILLERS.extend(_filler(pool_rng, 4_000) for _ in range(64))
    parts, total = [], 0
    while total < size:
        block = _FILLERS[rng.randrange(len(_FILLERS))]
        parts.append(block)
        total += len(block)
    return "".join(parts)


def article_page(base: str, i: int, j: int) -> bytes:
    rng = random.Random(i * 100_003 + j)
    title = f"Post {j} of site {i}: {rng.choice(WORDS)} and {rng.choice(WORDS)}"
    paras = []
    for k in range(12):
        sent = [rng.choice(SENTENCES) for _ in range(3)]
        sent.append(f"Site {i} article {j} paragraph {k} mentions {' '.join(rng.choices(WORDS, k=8))}.")
        paras.append("<p>" + " ".join(sent) + "</p>")
        if k % 4 == 3:
            paras.append(f"<h2>{rng.choice(WORDS).title()} {k}</h2>")
    size = rng.randrange(45_000, 140_000)
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            f'<link rel="canonical" href="{base}/blog/post-{j}/">{_filler_block(rng, size // 3)}</head><body>'
            f"<header><nav>{_filler_block(rng, size // 4)}</nav></header><main><article><h1>{title}</h1>"
            f"{''.join(paras)}</article><aside>{_filler_block(rng, size // 4)}</aside></main>"
            f"<footer>{_filler_block(rng, size // 6)}</footer></body></html>").encode()


def homepage(base: str, i: int) -> bytes:
    rng = random.Random(i)
    return (f'<!doctype html><html><head><title>Site {i}</title>'
            f'<link rel="alternate" type="application/rss+xml" title="Feed" href="{base}/feed/">'
            f"</head><body>{_filler_block(rng, 50_000)}</body></html>").encode()


def feed(base: str, i: int, articles: int) -> bytes:
    items = "".join(
        f"<item><title>Post {j}</title><link>{base}/blog/post-{j}/</link><guid>{base}/blog/post-{j}/</guid>"
        f"<pubDate>Mon, 16 Nov 2026 14:00:00 +0000</pubDate><description>An excerpt of post {j}.</description>"
        f"</item>" for j in range(articles))
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Site {i}</title>'
            f"<link>{base}/</link>{items}</channel></rss>").encode()


def resource_for(base: str, i: int, path: str, articles: int) -> tuple[bytes, str] | None:
    if path == "/robots.txt":
        return b"User-agent: *\nDisallow: /wp-admin/\n", "text/plain"
    if path == "/":
        return homepage(base, i), "text/html; charset=utf-8"
    if path == "/feed/":
        return feed(base, i, articles), "application/rss+xml"
    if path.startswith("/blog/post-") and path.endswith("/"):
        j = path[len("/blog/post-"):-1]
        if j.isdigit() and int(j) < articles:
            return article_page(base, i, int(j)), "text/html; charset=utf-8"
    return None


async def _serve(sites: int, articles: int, port: int) -> None:
    """A small HTTP/1.1 keep-alive server for every site; ETags are computed from the path,
    so a 304 costs the server nothing."""

    def handler_for(i: int):
        base = f"http://{host_of(i)}:{port}"

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                while True:
                    head = await reader.readuntil(b"\r\n\r\n")
                    lines = head.decode("latin-1").split("\r\n")
                    path = lines[0].split(" ")[1].split("?")[0]
                    headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                    etag = '"%s"' % hashlib.md5(f"{i}{path}v1".encode()).hexdigest()[:16]
                    if headers.get("if-none-match") == etag or headers.get("if-modified-since") == LAST_MODIFIED:
                        writer.write(f"HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nLast-Modified: {LAST_MODIFIED}"
                                     "\r\nContent-Length: 0\r\n\r\n".encode())
                    else:
                        found = resource_for(base, i, path, articles)
                        if found is None:
                            writer.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
                        else:
                            body, ctype = found
                            writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}"
                                         f"\r\nETag: {etag}\r\nLast-Modified: {LAST_MODIFIED}\r\n\r\n".encode() + body)
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError, IndexError):
                pass
            finally:
                writer.close()
        return handle

    servers = [await asyncio.start_server(handler_for(i), host_of(i), port, backlog=256) for i in range(sites)]
    print(f"ready {port}", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


def start_server(sites: int, articles: int) -> tuple[subprocess.Popen, int]:
    """Start the server process; it picks a port free on every site address."""
    for _ in range(20):
        port = random.randrange(20_000, 60_000)
        proc = subprocess.Popen([sys.executable, __file__, "--serve", "--sites", str(sites),
                                 "--articles", str(articles), "--port", str(port)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = proc.stdout.readline()
        if line.startswith("ready"):
            return proc, port
        proc.wait()
    raise SystemExit("could not start the benchmark server: " + (proc.stderr.read() if proc.stderr else ""))


# --- the benchmark ----------------------------------------------------------------------------

def run_benchmark(sites: int, articles: int, workers: int | None, with_clustering: bool) -> dict:
    from pipeline import clustering, harvest, orchestrator
    from pipeline.fetch import FetchConfig
    from pipeline.store import Store
    from pipeline.types import Source

    if not with_clustering:
        clustering.cluster_new_mentions = lambda store, now, **kw: 0
    extract_time = [0.0]
    lock = threading.Lock()
    real_extract = harvest.extract_article

    def timed_extract(*a, **kw):
        t = time.thread_time()  # CPU time of this thread: not inflated by waiting for the GIL
        try:
            return real_extract(*a, **kw)
        finally:
            with lock:
                extract_time[0] += time.thread_time() - t
    harvest.extract_article = timed_extract  # the harvester extracts, in the worker threads

    proc, port = start_server(sites, articles)
    try:
        sources = [Source(id=f"site{i:04d}", name=f"Site {i}", homepage=f"http://{host_of(i)}:{port}/",
                          allow_private=True)  # served on loopback
                   for i in range(sites)]
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(f"sqlite:///{tmp}/bench.sqlite")
            config = FetchConfig(user_agent_contact="https://example.org/benchmark")
            t, cpu = time.perf_counter(), time.process_time()
            first = orchestrator.run_sources(sources, store, fetch_config=config, workers=workers)
            first_wall, first_cpu = time.perf_counter() - t, time.process_time() - cpu
            first_extract = extract_time[0]
            extract_time[0] = 0.0
            counts = store.table_counts()
            snapshots = counts["snapshots"]
            t = time.perf_counter()
            second = orchestrator.run_sources(sources, store, fetch_config=config, workers=workers)
            second_wall = time.perf_counter() - t
            after = store.table_counts()
            db_size = sum(f.stat().st_size for f in Path(tmp).iterdir())
            store.close()
    finally:
        proc.terminate()
        proc.wait()
    new_articles = sum(r.new_articles for r in first.sources)
    return dict(
        sites=sites, articles_per_site=articles, workers=workers or orchestrator.DEFAULT_WORKERS,
        first_run_s=round(first_wall, 2), first_run_articles=new_articles,
        first_run_articles_per_s=round(new_articles / first_wall, 1),
        first_run_requests=first.requests,
        first_run_extraction_cpu_s=round(first_extract, 2), first_run_cpu_s=round(first_cpu, 2),
        first_run_failed_sources=sum(not r.ok for r in first.sources),
        second_run_s=round(second_wall, 2), second_run_requests=second.requests,
        second_run_not_modified=second.not_modified,
        second_run_new_rows=sum(after[k] - counts[k] for k in counts),
        second_run_failed_sources=sum(not r.ok for r in second.sources),
        snapshots=snapshots, database_mb=round(db_size / 1e6, 1),
        peak_memory_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sites", type=int, default=200)
    ap.add_argument("--articles", type=int, default=20)
    ap.add_argument("--workers", type=int, default=None, help="default: the orchestrator's")
    ap.add_argument("--with-clustering", action="store_true", help="also cluster claims (loads the model)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        try:
            asyncio.run(_serve(args.sites, args.articles, args.port))
        except OSError as e:
            print(f"bind failed: {e}", flush=True)
            return 1
        return 0
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        os.environ.pop(var, None)
    r = run_benchmark(args.sites, args.articles, args.workers, args.with_clustering)
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        print(f"{r['sites']} sites x {r['articles_per_site']} articles, {r['workers']} workers")
        print(f"first run:  {r['first_run_s']:.2f} s, {r['first_run_articles']} articles, "
              f"{r['first_run_articles_per_s']} articles/s, {r['first_run_requests']} requests, "
              f"CPU {r['first_run_cpu_s']:.2f} s of which extraction {r['first_run_extraction_cpu_s']:.2f} s, "
              f"{r['first_run_failed_sources']} failed sources")
        print(f"second run: {r['second_run_s']:.2f} s, {r['second_run_requests']} requests "
              f"({r['second_run_not_modified']} not modified), {r['second_run_new_rows']} new rows, "
              f"{r['second_run_failed_sources']} failed sources")
        print(f"snapshots:  {r['snapshots']}, database {r['database_mb']} MB")
        print(f"peak memory: {r['peak_memory_mb']} MB")
    ok = r["first_run_failed_sources"] == 0 and r["second_run_failed_sources"] == 0 and r["second_run_new_rows"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
