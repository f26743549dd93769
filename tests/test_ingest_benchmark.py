"""benchmarks/ingest.py still works: a tiny run (3 sites, 2 articles each) over loopback."""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ingest_benchmark_runs_with_tiny_n():
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "ingest.py"), "--sites", "3",
                             "--articles", "2", "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    (r,) = json.loads(result.stdout)["runs"]
    assert r["first_run_articles"] == 6 and r["first_run_failed_sources"] == 0
    # robots.txt, homepage and feed per site, all answered 304; no page requested again
    assert r["second_run_requests"] == r["second_run_not_modified"] == 9
    assert r["second_run_new_rows"] == 0 and r["peak_memory_mb"] > 0
