"""docs/library.md's example script, run as it stands: the library API (`pipeline.Syndicate`)
against the demo's sample partner sites served on 127.0.0.1, into a fresh SQLite file in a
temporary folder, ending in a digest."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

from pipeline.demo import DEMO_SOURCES

DOC = Path(__file__).resolve().parents[1] / "docs" / "library.md"


def first_python_block(text: str) -> str:
    match = re.search(r"```python\n(.*?)```", text, re.S)
    assert match, "docs/library.md has no ```python block"
    return match.group(1)


def test_the_documented_script_runs(tmp_path, monkeypatch, capsys, demo_server):
    script = first_python_block(DOC.read_text("utf-8"))
    shutil.copytree(DEMO_SOURCES, tmp_path / "sources")  # the script's sources/ folder: the demo partners
    monkeypatch.chdir(tmp_path)
    exec(compile(script, str(DOC), "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out.splitlines()

    partners = sorted(p.stem for p in DEMO_SOURCES.glob("*.toml"))
    assert sorted(line.split()[0] for line in out if line.endswith(" ok")) == partners
    merged = [line for line in out if re.match(r"\d+ partners: ", line)]
    assert merged and all(int(line.split()[0]) >= 2 for line in merged)
    written = [Path(line) for line in out if line.startswith("digest")]
    assert Path("digest/digest-2026-W47.html") in written and Path("digest/feed.atom") in written
    html = (tmp_path / "digest" / "digest-2026-W47.html").read_text("utf-8")
    assert "Stated by several partners" in html and demo_server.base in html
    assert (tmp_path / "syndicate.sqlite").is_file()
