"""`syndicate demo`: the bundled sample sites, served on loopback, through the whole
pipeline into a fresh SQLite file, ending in a digest with merged, attributed claims."""
import json
import re

from click.testing import CliRunner

from pipeline.cli import cli


def test_demo_produces_a_digest_with_a_claim_from_two_partners(tmp_path):
    out = tmp_path / "demo"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert re.search(r"merged claims: [1-9]", result.output), result.output
    html_path = next(out.glob("digest-*.html"))
    md_path = next(out.glob("digest-*.md"))
    assert str(html_path) in result.output and str(md_path) in result.output

    html = html_path.read_text("utf-8")
    merged = html.split("<h2>Stated by several partners</h2>", 1)[1].split("<h2>", 1)[0]
    blocks = re.findall(r'<div class="claim" id="claim-\d+">(.*?)</div>', merged, re.S)
    assert blocks, "no merged claim in the digest"
    sites = [set(re.findall(r'href="(http://127\.0\.0\.1:8000/partners/[^/"]+)/', b)) for b in blocks]
    assert any(len(s) >= 2 for s in sites), sites

    claims = [json.loads(line) for line in CliRunner().invoke(
        cli, ["export", "claims", "--db", str(out / "syndicate.sqlite")]).output.splitlines()]
    assert any(len(c["sites"]) >= 2 for c in claims)
