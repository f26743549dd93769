"""Regenerate the README's picture of the digest (docs/digest-1280.png) from the demo.

    .venv/bin/python tools/screenshot_digest.py [--out docs/digest-1280.png] [--width 1280]

Runs `syndicate demo` into a temporary folder (the bundled sample partners, served on
127.0.0.1), opens the week's digest in headless Chromium (Debian's chromium, driven over
the DevTools pipe by the project's own tests/chromium.py) at the given width, checks that
nothing scrolls sideways, and saves a full-page PNG. Prints what it wrote.
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
    if report.scroll_width > args.width:
        print(f"warning: the page scrolls sideways at {args.width} px ({report.scroll_width} px)", file=sys.stderr)
    print(f"{args.out}: {page.name} at {args.width} px, {report.height} px tall")
    return 0


if __name__ == "__main__":
    sys.exit(main())
