"""Research-side benchmark: what full-text search and the citations table cost when storing,
and how fast search, exports and snapshots are on a synthetic corpus.

    python benchmarks/research.py [--articles 1000] [--sentences 50] [--pg URL] [--json]

Generates articles of random sentences over a fixed vocabulary (seeded; every fifth sentence
cites a link, every tenth is promotional), stores them through `Store.save_article` into a
fresh SQLite file (and PostgreSQL database with --pg), and prints:
- store: articles/s with the FTS triggers and citation rows, and the same with the triggers
  dropped (SQLite), so the overhead of search on ingestion shows;
- search: median and worst latency of `Store.search` over 20 one- and two-word queries;
- export: mentions rows/s as JSON Lines, CSV and Parquet; snapshot wall time.
"""
from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.dataset import write_rows, write_snapshot  # noqa: E402
from pipeline.store import EXPORT_COLUMNS, Store  # noqa: E402
from pipeline.types import ArticleMeta, Citation, ExtractedArticle, Kind, Sentence, Source  # noqa: E402

T0 = datetime(2026, 11, 2, tzinfo=timezone.utc)


def vocabulary(rng: random.Random, n: int = 3000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(n)]


def make_articles(n: int, per: int, sources: list[Source], seed: int = 7):
    rng = random.Random(seed)
    words = vocabulary(rng)
    for i in range(n):
        src = sources[i % len(sources)]
        sents = []
        for p in range(per):
            text = " ".join(rng.choice(words) for _ in range(rng.randint(8, 25))).capitalize() + "."
            kind = Kind.PROMO if p % 10 == 9 else Kind.CLAIM
            cites = (Citation("ref", f"https://ref{rng.randint(1, 50)}.example.org/p{p}"),) if p % 5 == 0 else ()
            sents.append(Sentence(position=p, text=text, display=text, kind=kind, citations=cites))
        url = f"{src.homepage}post-{i}/"
        yield src.id, url, ExtractedArticle(url=url, meta=ArticleMeta(title=f"Post {i}",
                                                                       published=T0 + timedelta(hours=i)),
                                            text=" ".join(s.text for s in sents), sentences=tuple(sents)), words


def store_all(store: Store, n: int, per: int, sources: list[Source]) -> tuple[float, list[str]]:
    store.sync_sources(sources)
    words: list[str] = []
    start = time.perf_counter()
    for site, url, article, words in make_articles(n, per, sources):
        store.save_article(site, url, article, guid=None, snapshot_sha256=None, fetched_at=T0)
    return time.perf_counter() - start, words


def measure(url: str, args, sources, label: str) -> dict:
    store = Store.open(url)
    elapsed, words = store_all(store, args.articles, args.sentences, sources)
    rng = random.Random(3)
    queries = [rng.choice(words) for _ in range(10)] + [f"{rng.choice(words)} {rng.choice(words)}" for _ in range(10)]
    times = []
    for q in queries:
        t = time.perf_counter()
        store.search(q, limit=50)
        times.append(time.perf_counter() - t)
    out = {"engine": label, "mentions": args.articles * args.sentences,
           "store_articles_per_s": round(args.articles / elapsed, 1),
           "search_median_ms": round(statistics.median(times) * 1000, 1),
           "search_max_ms": round(max(times) * 1000, 1)}
    rows = list(store.export("mentions"))
    for fmt in ("jsonl", "csv", "parquet"):
        t = time.perf_counter()
        write_rows(rows, EXPORT_COLUMNS["mentions"], fmt, io.BytesIO())
        out[f"export_{fmt}_rows_per_s"] = round(len(rows) / (time.perf_counter() - t))
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        write_snapshot(store, Path(tmp) / "snap")
        out["snapshot_s"] = round(time.perf_counter() - t, 2)
    store.close()
    return out


def sqlite_without_triggers(path: Path, args, sources) -> float:
    store = Store.open(f"sqlite:///{path}")
    with store.engine.begin() as c:
        for t in ("mentions_fts_ai", "mentions_fts_ad", "mentions_fts_au", "faq_fts_ai", "faq_fts_ad", "faq_fts_au"):
            c.exec_driver_sql(f"DROP TRIGGER {t}")
    elapsed, _ = store_all(store, args.articles, args.sentences, sources)
    store.close()
    return round(args.articles / elapsed, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--articles", type=int, default=1000)
    ap.add_argument("--sentences", type=int, default=50)
    ap.add_argument("--pg", metavar="URL", help="also measure on this PostgreSQL server (a fresh database)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    sources = [Source(id=f"p{i}", name=f"Partner {i}", homepage=f"https://p{i}.example/") for i in range(20)]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(measure(f"sqlite:///{Path(tmp) / 'a.sqlite'}", args, sources, "sqlite"))
        results[-1]["store_articles_per_s_without_fts"] = sqlite_without_triggers(Path(tmp) / "b.sqlite", args,
                                                                                  sources)
    if args.pg:
        import sqlalchemy as sa
        from pipeline.store import normalize_db_url
        admin = sa.create_engine(normalize_db_url(args.pg), isolation_level="AUTOCOMMIT")
        name = f"syndicate_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            results.append(measure(admin.url.set(database=name).render_as_string(hide_password=False), args,
                                   sources, "postgresql"))
        finally:
            with admin.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    if args.json:
        print(json.dumps(results, indent=2))
        return
    for r in results:
        print(f"{r['engine']}: {r['mentions']} sentences")
        line = f"  store: {r['store_articles_per_s']} articles/s"
        if "store_articles_per_s_without_fts" in r:
            line += f" ({r['store_articles_per_s_without_fts']} without the FTS triggers)"
        print(line)
        print(f"  search: median {r['search_median_ms']} ms, worst {r['search_max_ms']} ms")
        print(f"  export mentions: {r['export_jsonl_rows_per_s']} rows/s JSON Lines, "
              f"{r['export_csv_rows_per_s']} CSV, {r['export_parquet_rows_per_s']} Parquet; "
              f"snapshot {r['snapshot_s']} s")


if __name__ == "__main__":
    main()
