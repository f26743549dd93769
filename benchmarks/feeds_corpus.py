"""Robustness on feeds from the wild: every file of a feed corpus served over loopback as
one partner's feed, one ingestion run, and what became of each.

    python benchmarks/feeds_corpus.py [--corpus ../shared/feeds-corpus/feedparser-tests]
                                      [--limit N] [--workers 8] [--time-limit 900] [--json]

The corpus (../shared/feeds-corpus, read its README) is the feedparser project's test
feeds: well-formed and broken RSS/Atom/CDF/JSON, every encoding trick, entities, sanitizer
cases. A separate process serves each file at its path (with the `Header:` lines a file's
leading comment asks for, such as a Content-Type charset), and any other path as a small
article page, so that items linking back to the partner's own host are fetched and stored.
Each file is the registry feed of one source whose homepage is on that server: links to
other hosts (example.com...) are outside the source's fetch scope and are counted, never
fetched. Claim clustering is not part of this and is skipped.

Prints, per source (mutually exclusive, in this order):
- failed: the source has an error (kinds listed: not-a-feed, xml-entities, ...);
- warned: no error, a warning about the feed itself (recoverable XML error, encoding...);
- stored: no error or feed warning, at least one article stored;
- read:   no error or feed warning, nothing to store (no items, or only off-scope links:
          both are said in the source's warnings, but are not about the feed's quality);
then articles stored, off-scope URLs, and the three things that must be zero: sources
ending with an `internal` error, a crash (an exception out of the run), a hang (a source
harvest over --hang-after seconds, or the whole run over --time-limit: the process then
dumps its threads and exits 3). Exit status 1 when any of those is non-zero.
"""
from __future__ import annotations

import argparse
import faulthandler
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DEFAULT_CORPUS = ROOT.parent / "shared" / "feeds-corpus" / "feedparser-tests"
HEADER_LINE = re.compile(rb"^\s*Header:\s*([A-Za-z-]+)\s*:\s*(.*?)\s*$", re.M)
ARTICLE = ("<!doctype html><html lang=\"en\"><head><title>Post {n}</title></head><body><article>"
           "<h1>Post {n}</h1><p>Regular exercise can improve sleep quality in adults. Most people "
           "notice better sleep after several weeks of abstinence ({n}).</p></article></body></html>")
# feedparser's own tests point some links at its test server; served here too when free
FEEDPARSER_TEST_PORT = 8097


# --- the server (a separate process, so that it does not compete for the GIL) --------------------

def serve(corpus: Path, ports: list[int]) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import unquote, urlsplit

    root = corpus.resolve()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            path = unquote(urlsplit(self.path).path)
            file = (root / path.lstrip("/")).resolve()
            headers = {}
            if path == "/robots.txt":
                body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
            elif file.is_file() and root in file.parents:
                body = file.read_bytes()
                ctype = "application/json" if file.suffix == ".json" else "application/xml"
                for name, value in HEADER_LINE.findall(body[:4096]):
                    name = name.decode("ascii", "replace").title()
                    value = value.decode("latin-1")
                    if name == "Content-Type":
                        ctype = value
                    elif name in ("Content-Location", "Content-Language", "Etag", "Last-Modified", "X-Foo"):
                        headers[name] = value
            else:
                body, ctype = ARTICLE.format(n=abs(hash(path)) % 10_000).encode(), "text/html; charset=utf-8"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, fmt: str, *args) -> None:
            pass

    servers = []
    for port in ports:
        try:
            servers.append(ThreadingHTTPServer(("127.0.0.1", port), Handler))
        except OSError:
            if port != 0:
                continue
            raise
    for s in servers:
        s.daemon_threads = True
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print(" ".join(str(s.server_port) for s in servers), flush=True)
    sys.stdin.read()  # until the parent closes it


# --- the run -------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--limit", type=int, default=0, help="only the first N files (sorted)")
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--hang-after", type=float, default=60.0, help="a source harvest longer than this is a hang")
    ap.add_argument("--time-limit", type=float, default=900.0, help="the whole run; past it: dump threads, exit 3")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--serve", nargs="*", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve is not None:
        serve(args.corpus, args.serve)
        return 0
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2

    import logging
    logging.basicConfig(level=logging.CRITICAL)  # each source's errors are in its report, counted below
    from pipeline import clustering, orchestrator
    from pipeline.fetch import FetchConfig
    from pipeline.store import Store
    from pipeline.types import Source

    # every file but the corpus's own documentation: another corpus may name its feeds
    # .rss, .atom, .feed or nothing at all
    files = sorted(p for p in args.corpus.rglob("*") if p.is_file() and not p.name.startswith(".")
                   and p.suffix.lower() not in (".md", ".py", ".pyc", ".sh", ".cfg", ".toml", ".ini")
                   and not p.name.upper().startswith(("README", "LICENSE", "LICENCE", "COPYING", "AUTHORS")))
    if args.limit:
        files = files[:args.limit]
    # four servers, so that four sources are fetched at once (one request per host at a time)
    server = subprocess.Popen([sys.executable, __file__, "--corpus", str(args.corpus), "--serve",
                               str(FEEDPARSER_TEST_PORT), "0", "0", "0"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    ports = [int(p) for p in server.stdout.readline().split()]
    bases = [f"http://127.0.0.1:{p}" for p in ports]
    sources, path_of = [], {}
    for i, f in enumerate(files):
        rel = f.relative_to(args.corpus).as_posix()
        base = bases[i % len(bases)]
        sid = f"f{i:04d}"
        path_of[sid] = rel
        sources.append(Source(id=sid, name=f"Corpus {rel}", homepage=f"{base}/", feeds=(f"{base}/{rel}",),
                              allow_private=True))  # served on loopback

    clustering.cluster_new_mentions = lambda store, now, **kw: 0  # not what is measured here
    durations: dict[str, float] = {}
    harvest = orchestrator._harvest

    def timed_harvest(source, *a, **kw):
        started = time.monotonic()
        try:
            return harvest(source, *a, **kw)
        finally:
            durations[source.id] = time.monotonic() - started

    orchestrator._harvest = timed_harvest
    faulthandler.dump_traceback_later(args.time_limit, exit=True)  # a hang ends the process, loudly
    crash = None
    config = FetchConfig(connect_timeout=2.0, read_timeout=5.0, total_timeout=10.0, retries=1, backoff=0.1,
                         source_budget=args.hang_after / 2)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{Path(tmp) / 'corpus.sqlite'}")
        started = time.monotonic()
        try:
            report = orchestrator.run_sources(sources, store, fetch_config=config, workers=args.workers)
        except Exception as e:  # noqa: BLE001 - a crash is what this script reports
            crash, report = f"{type(e).__name__}: {e}", None
        wall = time.monotonic() - started
        faulthandler.cancel_dump_traceback_later()
        articles = Counter(a["site"] for a in store.export_articles()) if report else Counter()
        store.close()
    server.stdin.close()
    server.wait(timeout=10)

    classes: Counter = Counter()
    error_kinds: Counter = Counter()
    warning_kinds: Counter = Counter()
    internal, hung = [], []
    off_scope = 0
    for r in report.sources if report else ():
        off_scope += r.off_scope
        # what is said about the feed itself; "no items" and off-scope links are "read" below
        feed_warnings = [w for w in r.warnings if "outside the fetch scope" not in w and "have no items" not in w]
        if any(e.kind == "internal" for e in r.errors):
            internal.append((path_of[r.source_id], [e.message for e in r.errors if e.kind == "internal"][0]))
        if r.errors:
            classes["failed"] += 1
            error_kinds.update({e.kind for e in r.errors})
        elif feed_warnings:
            classes["warned"] += 1
            warning_kinds.update({_warning_kind(w) for w in feed_warnings})
        elif articles.get(r.source_id):
            classes["stored"] += 1
        else:
            classes["read"] += 1
    hung = sorted(((d, path_of[s]) for s, d in durations.items() if d > args.hang_after), reverse=True)
    slowest = sorted(((d, path_of[s]) for s, d in durations.items()), reverse=True)[:3]
    result = dict(
        corpus=str(args.corpus), files=len(files), wall_seconds=round(wall, 1),
        stored=classes["stored"], warned=classes["warned"], failed=classes["failed"], read=classes["read"],
        articles_stored=sum(articles.values()), off_scope_not_fetched=off_scope,
        internal=len(internal), crash=1 if crash else 0, hang=len(hung),
        error_kinds=dict(error_kinds.most_common()), warning_kinds=dict(warning_kinds.most_common()),
        slowest_sources=[dict(seconds=round(d, 2), file=p) for d, p in slowest],
        internal_errors=[dict(file=p, message=m) for p, m in internal[:20]],
        crash_message=crash, hung_files=[p for _, p in hung[:20]],
    )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"feed corpus: {result['files']} files from {args.corpus} in {result['wall_seconds']} s "
              f"({args.workers} workers)")
        print(f"  stored {result['stored']}, warned {result['warned']}, failed {result['failed']}, "
              f"read with nothing to store {result['read']}")
        print(f"  articles stored {result['articles_stored']}; off-scope URLs not fetched "
              f"{result['off_scope_not_fetched']}")
        print(f"  internal errors {result['internal']}, crashes {result['crash']}, hangs {result['hang']}")
        print(f"  failed by kind: {result['error_kinds']}")
        print(f"  warned by kind: {result['warning_kinds']}")
        print("  slowest sources: " + ", ".join(f"{s['file']} {s['seconds']} s" for s in result["slowest_sources"]))
        for item in result["internal_errors"]:
            print(f"  internal: {item['file']}: {item['message']}")
        if crash:
            print(f"  crash: {crash}")
    return 1 if (internal or crash or hung) else 0


def _warning_kind(warning: str) -> str:
    """A short label for a warning, for the summary: its wording up to the first detail."""
    text = re.sub(r"^https?://\S+: ", "", warning)
    for label in ("malformed feed", "encoding", "windows-1252", "time budget", "no usable link", "skipped",
                  "feed's content instead", "no items", "moved permanently"):
        if label in text:
            return label
    return text.split(":")[0][:40]


if __name__ == "__main__":
    sys.exit(main())
