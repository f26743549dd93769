"""benchmarks/feeds_corpus.py: the feedparser project's test feeds (../shared/feeds-corpus),
each served over loopback as one partner's registry feed. Every file must end stored,
warned, failed with a clear error kind, or read with nothing to store: never an
`internal` error, a crash or a hang."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_corpus(corpus: Path, *extra: str, timeout: float) -> dict:
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "feeds_corpus.py"), "--corpus", str(corpus),
                             "--json", *extra], capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    return json.loads(result.stdout)


def test_encoding_folder_of_the_corpus(shared_dir):
    # the first 82 files (sorted) are the encoding cases: UTF-16/32 with and without a
    # byte-order mark, HTTP and XML charsets that disagree, unknown encodings
    r = run_corpus(shared_dir / "feeds-corpus" / "feedparser-tests", "--limit", "82", timeout=180)
    assert r["files"] == 82
    assert r["internal"] == r["crash"] == r["hang"] == 0
    assert r["stored"] + r["warned"] + r["failed"] + r["read"] == 82
    assert r["failed"] == 0, r["error_kinds"]


@pytest.mark.slow
def test_whole_corpus(shared_dir):
    r = run_corpus(shared_dir / "feeds-corpus" / "feedparser-tests", timeout=900)
    assert r["files"] == 2107
    assert r["internal"] == r["crash"] == r["hang"] == 0, (r["internal_errors"], r["crash_message"], r["hung_files"])
    assert r["stored"] + r["warned"] + r["failed"] + r["read"] == 2107
    # what fails is what is not an RSS/Atom feed (CDF, JSON, empty documents) or declares
    # entities: a floor with a little room, not a count to match
    assert r["failed"] <= 30, r["error_kinds"]
    assert set(r["error_kinds"]) <= {"not-a-feed", "xml-entities", "empty", "bad-url", "bad-feed"}
