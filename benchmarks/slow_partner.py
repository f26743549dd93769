"""How long one hostile partner can hold a run: a slow-headers server beside normal partners.

    python benchmarks/slow_partner.py [--every 5] [--request-timeout 60] [--budget 300]
                                      [--retries 2] [--json]

The normal partners are the four partner sites of ../shared/partners (served by its
serve.py on 127.0.0.2-.5, in this process's threads). The hostile one, on 127.0.0.7,
accepts every connection and sends its status line and headers one byte every `--every`
seconds (issue 9 saw such a server hold one source ~400 s per attempt, 20 minutes in all).
Defaults are the production defaults of `syndicate run` (FetchConfig).

Two ingestion runs into fresh SQLite files (claim clustering skipped: not what is
measured): the normal partners alone, then the same with the slow partner. Prints both
wall times and the bound the second must stay under: the slow source's time budget plus
a little. Exit status 1 when the bound is passed or a normal partner stored nothing.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "partners"
SLOW_HOST = "127.0.0.7"


def slow_headers_server(every: float) -> tuple[socket.socket, threading.Event]:
    """A server that answers every request one byte of status line and headers at a time."""
    listener = socket.create_server((SLOW_HOST, 0))
    stop = threading.Event()
    head = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nX-Padding: " + b"x" * 200 +
            b"\r\nContent-Length: 11\r\n\r\n<p>late</p>")

    def answer(conn: socket.socket) -> None:
        with conn:
            try:
                conn.recv(65536)
                for i in range(len(head)):
                    if stop.wait(every):
                        return
                    conn.sendall(head[i:i + 1])
            except OSError:
                return  # the client gave up: the point of the exercise

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=answer, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    return listener, stop


def main() -> int:
    from pipeline import clustering, orchestrator
    from pipeline.fetch import FetchConfig
    from pipeline.store import Store
    from pipeline.types import Source

    defaults = FetchConfig()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--every", type=float, default=5.0, help="seconds between two header bytes")
    ap.add_argument("--request-timeout", type=float, default=defaults.total_timeout)
    ap.add_argument("--budget", type=float, default=defaults.source_budget)
    ap.add_argument("--retries", type=int, default=defaults.retries)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not (SHARED / "serve.py").is_file():
        print(f"partner sites not found: {SHARED}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.CRITICAL)
    clustering.cluster_new_mentions = lambda store, now, **kw: 0  # not what is measured here

    spec = importlib.util.spec_from_file_location("partner_serve", SHARED / "serve.py")
    serve = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve)
    servers = {site: s for site, s in serve.make_servers(0, week=1, quiet=True).items() if site != "bad"}
    for s in servers.values():
        threading.Thread(target=s.serve_forever, daemon=True).start()
    listener, stop = slow_headers_server(args.every)
    slow_base = f"http://{SLOW_HOST}:{listener.getsockname()[1]}"
    # every site is served on loopback: allow_private lets the sources reach it
    normal = [Source(id=site, name=site.title(), homepage=f"{s.base}/{site}/", allow_private=True)
              for site, s in servers.items()]
    slow = Source(id="slow", name="Slow Headers", homepage=f"{slow_base}/", allow_private=True)
    config = FetchConfig(total_timeout=args.request_timeout, source_budget=args.budget, retries=args.retries)

    def run(sources) -> tuple[float, dict]:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store.open(f"sqlite:///{Path(tmp) / 'run.sqlite'}")
            started = time.monotonic()
            report = orchestrator.run_sources(sources, store, fetch_config=config)
            wall = time.monotonic() - started
            store.close()
        return wall, {r.source_id: r for r in report.sources}

    try:
        alone, _ = run(normal)
        together, reports = run(normal + [slow])
    finally:
        stop.set()
        listener.close()
        for s in servers.values():
            s.shutdown()
            s.server_close()
    bound = args.budget + 5.0
    r = reports["slow"]
    result = dict(
        header_byte_every_s=args.every, request_deadline_s=args.request_timeout, source_budget_s=args.budget,
        retries=args.retries, normal_partners=len(normal), wall_normal_only_s=round(alone, 1),
        wall_with_slow_partner_s=round(together, 1), bound_s=bound,
        slow_partner_outcome=[f"{e.kind}: {e.message}" for e in r.errors] + list(r.warnings),
        normal_articles={sid: rep.new_articles for sid, rep in reports.items() if sid != "slow"},
    )
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"slow partner: headers one byte every {args.every:g} s; request deadline {args.request_timeout:g} s, "
              f"{args.retries} retries, source budget {args.budget:g} s")
        print(f"  run of {len(normal)} normal partners alone: {alone:.1f} s")
        print(f"  same run with the slow partner beside them: {together:.1f} s (bound: budget + 5 s = {bound:g} s)")
        print("  slow partner: " + "; ".join(result["slow_partner_outcome"]))
        print("  normal partners, articles stored: " + ", ".join(f"{k} {v}" for k, v in result["normal_articles"].items()))
    ok = together <= bound and all(result["normal_articles"].values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
