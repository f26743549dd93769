"""The demo digest seen in a real browser: headless Chromium at 375 and 1280 px wide.

No script runs, nothing is logged as an error, no request leaves the page, every item has
its attribution link, nothing scrolls sideways on a phone, and the page sent is under
4,000 px tall on a desktop. Also: no filler, heading or promotion is shown as an item.
Skipped with a reason where Chromium is absent (`.ci/run` installs it); under CI=true a
missing Chromium fails instead. Screenshots are saved under the test's temporary folder.
"""
from __future__ import annotations

import json
import os
import shutil

import pytest
from click.testing import CliRunner

from pipeline.cli import cli

MAX_HEIGHT_1280 = 4000
pytestmark = pytest.mark.slow  # runs the demo pipeline and a browser


@pytest.fixture(scope="module")
def demo_digest(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    result = CliRunner().invoke(cli, ["demo", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out


@pytest.mark.parametrize("width", [375, 1280])
def test_demo_digest_in_chromium(chromium, demo_digest, width, tmp_path):
    (page,) = demo_digest.glob("digest-*-W??.html")
    shot = tmp_path / f"digest-{width}.png"
    report = chromium.load(page, width, screenshot=shot)
    print(f"{page.name} at {width} px: {report.height} px tall, {len(report.items)} items, screenshot {shot}")
    assert report.requests == [page.resolve().as_uri()], "a request left the page"
    assert report.scripts == [], "a script ran"
    assert report.errors == [], "console or log errors"
    assert report.scroll_width <= width, f"scrolls sideways: {report.scroll_width} px"
    digest = json.loads(page.with_suffix(".json").read_text("utf-8"))
    assert [i["id"] for i in report.items] == [i["id"] for i in digest["items"]]
    assert len(report.items) >= 10
    for item, expected in zip(report.items, digest["items"]):
        assert expected["url"] in item["links"], item  # the attribution link, on the item itself
    if width == 1280:
        assert report.height < MAX_HEIGHT_1280, f"{report.height} px tall at 1280 px wide"
    assert shot.stat().st_size > 10_000
    if os.environ.get("SYNDICATE_SCREENSHOTS"):  # to refresh docs/: SYNDICATE_SCREENSHOTS=docs
        shutil.copy(shot, os.path.join(os.environ["SYNDICATE_SCREENSHOTS"], shot.name))


def test_full_page_loads_clean_too(chromium, demo_digest):
    (page,) = demo_digest.glob("digest-*-full.html")
    report = chromium.load(page, 1280)
    assert report.requests == [page.resolve().as_uri()] and report.scripts == [] and report.errors == []
    assert len(report.items) > len(json.loads(next(demo_digest.glob("digest-*-W??.json")).read_text())["items"])


def test_no_filler_heading_or_promotion_is_an_item(demo_digest):
    rows = CliRunner().invoke(cli, ["export", "mentions", "--db", str(demo_digest / "syndicate.sqlite")]).output
    mentions = [json.loads(line) for line in rows.splitlines()]
    claims = {m["display"] for m in mentions if m["kind"] == "claim"}
    not_claims = {m["display"] for m in mentions if m["kind"] != "claim"} - claims
    headings = {m["section"] for m in mentions if m["section"]}
    assert not_claims and headings  # the demo has filler and headings to leave out
    digest = json.loads(next(demo_digest.glob("digest-*-W??.json")).read_text("utf-8"))
    full = [st for c in digest["merged"] for st in c["statements"]] + \
           [st for t in digest["topics"] for line in t["lines"] for st in line["statements"]]
    assert full
    for st in full:
        assert st["text"] in claims and st["text"] not in not_claims and st["text"] not in headings, st["text"]
