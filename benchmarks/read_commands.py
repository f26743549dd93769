"""Read commands' speed: the real `syndicate` command, run several times each on the demo
database, as a researcher types it.

    python benchmarks/read_commands.py [--db out/demo/syndicate.sqlite] [--runs 9] [--json]

Without --db (or when the file is missing), builds the demo database first with
`syndicate demo --out <temporary folder>` (which loads the sentence model: a minute or two).
Each command is run once to warm the file cache (and to migrate an older database, and to
write the package's bytecode cache, as pip does when it installs the package: the commands
run without PYTHONDONTWRITEBYTECODE, which would otherwise make every run compile the
package's modules again, about 0.04 s), then `--runs` times; prints the median, the fastest
and slowest wall time of each, and the median CPU time (user + system) of the command's
process, which the load of other programs on the machine disturbs less than wall time, and
the load average before and after. `python -c pass` is the floor: the interpreter's own start.

Aim (issue 20): `sources`, `claims list` and `search` under 0.3 s median.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SYNDICATE = [sys.executable, "-m", "pipeline.cli"]
COMMANDS = {
    "python -c pass (floor)": [sys.executable, "-c", "pass"],
    "syndicate sources": [*SYNDICATE, "sources"],
    "syndicate claims list": [*SYNDICATE, "claims", "list"],
    "syndicate search withdrawal": [*SYNDICATE, "search", "withdrawal"],
}


def timed(cmd: list[str], env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child) of one run; fails loudly on a non-zero exit."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({done.returncode}): {done.stderr}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, default=ROOT / "out" / "demo" / "syndicate.sqlite")
    ap.add_argument("--runs", type=int, default=9)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    tmp = None
    db = args.db
    if not db.is_file():
        tmp = tempfile.TemporaryDirectory()
        out = Path(tmp.name) / "demo"
        print(f"building the demo database in {out} ...", file=sys.stderr)
        subprocess.run([*SYNDICATE, "demo", "--out", str(out)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        db = out / "syndicate.sqlite"
    env = dict(os.environ, SYNDICATE_DB=str(db))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    load_before = os.getloadavg()
    results = {}
    try:
        for name, cmd in COMMANDS.items():
            timed(cmd, env)  # warm-up
            runs = [timed(cmd, env) for _ in range(args.runs)]
            walls = sorted(w for w, _ in runs)
            results[name] = {"median_s": round(statistics.median(walls), 3), "min_s": round(walls[0], 3),
                             "max_s": round(walls[-1], 3),
                             "median_cpu_s": round(statistics.median(c for _, c in runs), 3), "runs": args.runs}
    finally:
        if tmp is not None:
            tmp.cleanup()
    load = {"before": [round(x, 2) for x in load_before], "after": [round(x, 2) for x in os.getloadavg()]}
    if args.json:
        print(json.dumps({"commands": results, "load_average_1_5_15_min": load}, indent=2))
    else:
        print(f"{args.runs} runs each on {db if tmp is None else 'a fresh demo database'}; load average "
              f"(1, 5, 15 min) {' '.join(map(str, load['before']))} before, {' '.join(map(str, load['after']))} after")
        print(f"{'command':<32} {'median s':>9} {'min s':>7} {'max s':>7} {'median CPU s':>13}")
        for name, r in results.items():
            print(f"{name:<32} {r['median_s']:>9.3f} {r['min_s']:>7.3f} {r['max_s']:>7.3f} {r['median_cpu_s']:>13.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
