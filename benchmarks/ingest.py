"""Ingestion benchmark: N synthetic partner sites on loopback, two runs.

    python benchmarks/ingest.py [--sites 50 200] [--articles 20] [--workers N] [--json]
    python benchmarks/ingest.py --sites 200 --workers-processes 1 2 [--pg URL] [--queue URL]

Serves N sites from a separate process (so the server does not compete with the
pipeline for the GIL), each on a loopback address of its own (127.0.1.1, 127.0.1.2, ...)
like real partners on their own hosts: robots.txt, a homepage (~50 KB) advertising an RSS
feed, a summary-only feed with M items, and M article pages of 50-150 KB (navigation,
sidebar, inline CSS/JS, footer around ~600 words of article text). Every resource has an
ETag and Last-Modified and answers conditional GETs.

Then runs the pipeline's ingestion (`run_sources`, one process) twice into a fresh SQLite
file for each size of --sites, and prints side by side: first-run wall time and articles/s
(and how much of it was extraction), second-run (nothing changed) wall time and per
source, request count and 304s, and peak memory. Claim clustering is not part of
ingestion and is skipped unless --with-clustering.

With --workers-processes, the same runs go through the task queue instead
(`orchestrator.run_queued`; `syndicate worker` processes, each with --worker-threads
threads) into a fresh PostgreSQL database (created on the server of --pg, default
SYNDICATE_TEST_PG_URL) over the Redis of --queue, once per number of processes, and it
prints articles/s of each and the speed-up. Workers do not encode sentences here (as
clustering is skipped).

Aims (issue 20): second run of 200 sources under 2 s and linear in the number of sources;
first run at or above 50 articles/s; two worker processes faster than one.
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

def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_benchmark(sites: int, articles: int, workers: int | None, with_clustering: bool,
                  extract_processes: int | None = None, budget: float = 3600.0, vectors: bool = True) -> dict:
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
            config = FetchConfig(user_agent_contact="https://example.org/benchmark", source_budget=budget)
            t, cpu, children = time.perf_counter(), time.process_time(), _children_cpu()
            first = orchestrator.run_sources(sources, store, fetch_config=config, workers=workers,
                                             extract_processes=extract_processes, vectors=vectors)
            # the extraction processes (which only extract) are reaped when the run ends
            extract_children = _children_cpu() - children
            first_wall, first_cpu = time.perf_counter() - t, time.process_time() - cpu + extract_children
            first_extract = extract_time[0] + extract_children
            extract_time[0] = 0.0
            counts = store.table_counts()
            snapshots = counts["snapshots"]
            t, cpu = time.perf_counter(), time.process_time()
            second = orchestrator.run_sources(sources, store, fetch_config=config, workers=workers,
                                              extract_processes=extract_processes, vectors=vectors)
            second_wall, second_cpu = time.perf_counter() - t, time.process_time() - cpu
            after = store.table_counts()
            db_size = sum(f.stat().st_size for f in Path(tmp).iterdir())
            store.close()
    finally:
        proc.terminate()
        proc.wait()
    new_articles = sum(r.new_articles for r in first.sources)
    return dict(
        sites=sites, articles_per_site=articles, workers=workers or orchestrator.DEFAULT_WORKERS, vectors=vectors,
        extract_processes=extract_processes if extract_processes is not None else (
            (os.cpu_count() or 1) if (os.cpu_count() or 1) > 1 and sites >= orchestrator.EXTRACT_POOL_MIN_SOURCES
            else 0),
        first_run_s=round(first_wall, 2), first_run_articles=new_articles,
        first_run_articles_per_s=round(new_articles / first_wall, 1),
        first_run_requests=first.requests,
        first_run_extraction_cpu_s=round(first_extract, 2), first_run_cpu_s=round(first_cpu, 2),
        first_run_failed_sources=sum(not r.ok for r in first.sources),
        second_run_s=round(second_wall, 2), second_run_cpu_s=round(second_cpu, 2),
        second_run_requests=second.requests,
        second_run_not_modified=second.not_modified,
        second_run_new_rows=sum(after[k] - counts[k] for k in counts),
        second_run_failed_sources=sum(not r.ok for r in second.sources),
        snapshots=snapshots, database_mb=round(db_size / 1e6, 1),
        peak_memory_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    )


def run_queue_benchmark(sites: int, articles: int, processes: int, threads: int, pg_url: str,
                        queue_url: str, budget: float = 3600.0) -> dict:
    """The same two runs through the task queue: `processes` worker processes (`syndicate
    worker`), a fresh PostgreSQL database, a Redis namespace of its own."""
    import uuid

    import redis
    import sqlalchemy as sa

    from pipeline import clustering, orchestrator
    from pipeline.fetch import FetchConfig
    from pipeline.store import Store, normalize_db_url
    from pipeline.taskqueue import Dispatcher
    from pipeline.types import Source

    clustering.cluster_new_mentions = lambda store, now, **kw: 0
    admin_url = normalize_db_url(pg_url)
    name = f"syndicate_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    db = admin_url.rsplit("/", 1)[0] + "/" + name
    namespace = f"syndicate-bench-{uuid.uuid4().hex[:8]}"
    queue = f"{queue_url}{'&' if '?' in queue_url else '?'}namespace={namespace}"
    proc, port = start_server(sites, articles)
    workers: list[subprocess.Popen] = []
    try:
        store = Store.open(db)
        env = dict(os.environ, SYNDICATE_ALLOW_PRIVATE="1")
        logs = [Path(tempfile.mkstemp(prefix="syndicate-worker-", suffix=".log")[1]) for _ in range(processes)]
        workers = [subprocess.Popen([sys.executable, "-m", "pipeline.cli", "worker", "--db", db, "--queue", queue,
                                     "--threads", str(threads)], cwd=ROOT, env=env, stderr=log.open("w"))
                   for log in logs]
        deadline = time.monotonic() + 120  # timed from when every worker is ready
        while not all("working on" in log.read_text() for log in logs):
            if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
                raise SystemExit("a worker did not start: " + " ".join(log.read_text() for log in logs))
            time.sleep(0.1)
        for log in logs:
            log.unlink()
        sources = [Source(id=f"site{i:04d}", name=f"Site {i}", homepage=f"http://{host_of(i)}:{port}/",
                          allow_private=True) for i in range(sites)]
        config = FetchConfig(user_agent_contact="https://example.org/benchmark", source_budget=budget)
        dispatcher = Dispatcher(queue, store.display_url, encode=False)
        t = time.perf_counter()
        first = orchestrator.run_queued(sources, store, dispatcher, fetch_config=config)
        first_wall = time.perf_counter() - t
        counts = store.table_counts()
        t = time.perf_counter()
        second = orchestrator.run_queued(sources, store, dispatcher, fetch_config=config)
        second_wall = time.perf_counter() - t
        after = store.table_counts()
        store.close()
    finally:
        cpu_before = _children_cpu()
        for w in workers:
            w.terminate()
        for w in workers:
            try:
                w.wait(timeout=60)
            except subprocess.TimeoutExpired:
                w.kill()
                w.wait()
        workers_cpu = _children_cpu() - cpu_before  # the workers are reaped here: their CPU over both runs
        proc.terminate()
        proc.wait()
        client = redis.Redis.from_url(queue_url)
        keys = list(client.scan_iter(f"{namespace}:*"))
        if keys:
            client.delete(*keys)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    new_articles = sum(r.new_articles for r in first.sources)
    return dict(sites=sites, articles_per_site=articles, processes=processes, threads=threads,
                first_run_s=round(first_wall, 2), first_run_articles=new_articles,
                first_run_articles_per_s=round(new_articles / first_wall, 1),
                first_run_failed_sources=sum(not r.ok for r in first.sources),
                second_run_s=round(second_wall, 2), second_run_requests=second.requests,
                second_run_not_modified=second.not_modified,
                second_run_new_rows=sum(after[k] - counts[k] for k in counts),
                second_run_failed_sources=sum(not r.ok for r in second.sources),
                workers_cpu_s=round(workers_cpu, 1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sites", type=int, nargs="+", default=[200], help="one or more sizes, run one after the other")
    ap.add_argument("--articles", type=int, default=20)
    ap.add_argument("--workers", type=int, default=None, help="threads of the one-process run; default: the "
                                                               "orchestrator's")
    ap.add_argument("--with-clustering", action="store_true", help="also cluster claims (loads the model)")
    ap.add_argument("--extract-processes", type=int, default=None,
                    help="extraction processes of the one-process run (0: in the run's process); default: the "
                         "orchestrator's (one per core)")
    ap.add_argument("--workers-processes", type=int, nargs="+", default=None, metavar="N",
                    help="run through the task queue with N worker processes (each N in turn) instead")
    ap.add_argument("--worker-threads", type=int, default=8, help="threads of each worker process")
    ap.add_argument("--pg", default=os.environ.get("SYNDICATE_TEST_PG_URL"),
                    help="PostgreSQL server URL for the queued runs [env SYNDICATE_TEST_PG_URL]")
    ap.add_argument("--queue", default="redis://127.0.0.1:6379/0", help="Redis URL for the queued runs")
    ap.add_argument("--source-budget", type=float, default=3600.0,
                    help="seconds one source may take (default 3600: on a loaded machine the run's default of "
                         "300 cuts sources short, and the second run is then not a no-change run)")
    ap.add_argument("--no-vectors", action="store_true",
                    help="label sentences without the sentence encoder (`run_sources(vectors=False)`), in "
                         "the extraction processes as in the run's own (the second run extracts nothing either way)")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve:
        try:
            asyncio.run(_serve(args.sites[0], args.articles, args.port))
        except OSError as e:
            print(f"bind failed: {e}", flush=True)
            return 1
        return 0
    for var in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"):
        os.environ.pop(var, None)
    if args.workers_processes:
        if not args.pg:
            raise SystemExit("--workers-processes needs a PostgreSQL server: --pg URL or SYNDICATE_TEST_PG_URL")
        runs = [run_queue_benchmark(n, args.articles, p, args.worker_threads, args.pg, args.queue, args.source_budget)
                for n in args.sites for p in args.workers_processes]
        if args.json:
            print(json.dumps({"queue": runs}, indent=2))
        else:
            _print_queue(runs, args.queue)
    else:
        runs = [run_benchmark(n, args.articles, args.workers, args.with_clustering, args.extract_processes,
                              args.source_budget, not args.no_vectors)
                for n in args.sites]
        if args.json:
            print(json.dumps({"runs": runs}, indent=2))
        else:
            _print_runs(runs)
    ok = all(r["first_run_failed_sources"] == 0 and r["second_run_failed_sources"] == 0
             and r["second_run_new_rows"] == 0 for r in runs)
    return 0 if ok else 1


def _print_runs(runs: list[dict]) -> None:
    print(f"one run process, {runs[0]['workers']} threads, {runs[0]['extract_processes']} extraction process(es), "
          f"{runs[0]['articles_per_site']} articles per site, SQLite; CPU counts the extraction processes; "
          f"labels {'with' if runs[0]['vectors'] else 'without'} sentence vectors")
    print(f"{'sites':>6} {'1st run s':>10} {'articles/s':>10} {'CPU s':>7} {'extract s':>9} {'2nd run s':>10} "
          f"{'ms/source':>9} {'2nd CPU s':>9} {'requests':>9} {'304':>5} {'new rows':>8} {'failed':>6} {'DB MB':>6} "
          f"{'peak MB':>7}")
    for r in runs:
        print(f"{r['sites']:>6} {r['first_run_s']:>10.2f} {r['first_run_articles_per_s']:>10.1f} "
              f"{r['first_run_cpu_s']:>7.1f} {r['first_run_extraction_cpu_s']:>9.1f} {r['second_run_s']:>10.2f} "
              f"{1000 * r['second_run_s'] / r['sites']:>9.1f} {r['second_run_cpu_s']:>9.2f} "
              f"{r['second_run_requests']:>9} "
              f"{r['second_run_not_modified']:>5} {r['second_run_new_rows']:>8} "
              f"{r['first_run_failed_sources'] + r['second_run_failed_sources']:>6} {r['database_mb']:>6} "
              f"{r['peak_memory_mb']:>7}")
    if len(runs) > 1:
        a, b = runs[0], runs[-1]
        growth = (b["second_run_s"] / a["second_run_s"]) / (b["sites"] / a["sites"])
        print(f"second run, {b['sites']} vs {a['sites']} sites: {b['second_run_s'] / a['second_run_s']:.2f}x the time "
              f"for {b['sites'] / a['sites']:.2f}x the sources (1.00 per source is linear; this is {growth:.2f})")


def _print_queue(runs: list[dict], queue: str) -> None:
    print(f"through the task queue ({queue}), PostgreSQL, {runs[0]['threads']} threads per worker process")
    print(f"{'sites':>6} {'processes':>9} {'1st run s':>10} {'articles/s':>10} {'2nd run s':>10} {'requests':>9} "
          f"{'304':>5} {'new rows':>8} {'failed':>6} {'workers CPU s':>13}")
    for r in runs:
        print(f"{r['sites']:>6} {r['processes']:>9} {r['first_run_s']:>10.2f} {r['first_run_articles_per_s']:>10.1f} "
              f"{r['second_run_s']:>10.2f} {r['second_run_requests']:>9} {r['second_run_not_modified']:>5} "
              f"{r['second_run_new_rows']:>8} {r['first_run_failed_sources'] + r['second_run_failed_sources']:>6} "
              f"{r['workers_cpu_s']:>13}")
    for n in dict.fromkeys(r["sites"] for r in runs):
        group = [r for r in runs if r["sites"] == n]
        base = group[0]
        for r in group[1:]:
            print(f"speed-up, {n} sites, {r['processes']} vs {base['processes']} process(es): "
                  f"{r['first_run_articles_per_s'] / base['first_run_articles_per_s']:.2f}x (first run)")


if __name__ == "__main__":
    sys.exit(main())
