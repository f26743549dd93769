"""Regenerate the README's picture of the digest (docs/digest-1280.png) from the demo.

    .venv/bin/python tools/screenshot_digest.py [--out docs/digest-1280.png] [--width 1280]

Runs `syndicate demo` into a temporary folder (the bundled sample partners, served on
127.0.0.1), opens the week's digest in headless Chromium (Debian's chromium, driven over
the DevTools pipe by the project's own tests/chromium.py) at the given width, checks that
nothing scrolls sideways, and saves a full-page PNG. Prints what it wrote, then the topic
labels of every demo week (what issue 19's closing note lists).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the project's Chromium driver lives with the tests

from chromium import Chromium, find_chromium  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "digest-1280.png")
    parser.add_argument("--width", type=int, default=1280)
    args = parser.parse_args()
    exe = find_chromium()
    if exe is None:
        print("Chromium is absent: apt-get install chromium", file=sys.stderr)
        return 2
    from pipeline.demo import run_demo

    with tempfile.TemporaryDirectory(prefix="syndicate-shot-") as tmp:
        result = run_demo(Path(tmp) / "demo")
        (page,) = Path(result.out_dir).glob("digest-*-W??.html")
        with Chromium(exe) as browser:
            report = browser.load(page, args.width, screenshot=args.out)
            labels = _week_labels(result.database)
    if report.scroll_width > args.width:
        print(f"warning: the page scrolls sideways at {args.width} px ({report.scroll_width} px)", file=sys.stderr)
    print(f"{args.out}: {page.name} at {args.width} px, {report.height} px tall")
    for week, names in labels.items():
        print(f"topics of {week}: {' | '.join(names) or '(none)'}")
    return 0


def _week_labels(database: Path) -> dict[str, list[str]]:
    """The topic labels of each week the demo's articles are dated in (its full digest)."""
    from datetime import datetime

    from pipeline import Syndicate
    from pipeline.publish import Week

    with Syndicate(database) as syn:
        days = sorted(datetime.fromisoformat(a["published"].replace("Z", "+00:00"))
                      for a in syn.export("articles") if a["published"])
        weeks = dict.fromkeys(str(Week.containing(day)) for day in days)
        return {week: syn.topic_labels(week) for week in weeks}


if __name__ == "__main__":
    sys.exit(main())
