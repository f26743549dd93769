"""`syndicate demo`: the bundled sample sites, served on loopback, through the whole
pipeline into a fresh SQLite file, ending in a digest with merged, attributed claims; its
links still open after the demo (served from the copies kept beside the digest); and its
--out folder is never one it did not make."""
import functools
import json
import re
import socket
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from urllib.request import urlopen

from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.demo import MARKER, claim_output_folder, record_output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def test_demo_produces_a_digest_whose_links_open_after_it_ends(tmp_path, monkeypatch):
    monkeypatch.delenv("SYNDICATE_ALLOW_PRIVATE")  # the demo allows loopback for its own run
    out = tmp_path / "demo"
    base = f"http://127.0.0.1:{_free_port()}"
    result = CliRunner().invoke(cli, ["demo", "--out", str(out), "--base-url", base], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert re.search(r"merged claims: [1-9]", result.output), result.output
    html_path = next(out.glob("digest-*[0-9].html"))
    md_path = next(out.glob("digest-*.md"))
    assert str(html_path) in result.output and str(md_path) in result.output
    assert f"--directory {out}" in result.output  # how to serve the folder at --base-url

    html = html_path.read_text("utf-8")
    merged = html.split("<h2>Stated by several partners</h2>", 1)[1].split("<h2>", 1)[0]
    blocks = re.findall(r'<div class="claim" id="claim-\d+">(.*?)</div>', merged, re.S)
    assert blocks, "no merged claim in the digest"
    sites = [set(re.findall(rf'href="({re.escape(base)}/partners/[^/"]+)/', b)) for b in blocks]
    assert any(len(s) >= 2 for s in sites), sites

    claims = [json.loads(line) for line in CliRunner().invoke(
        cli, ["export", "claims", "--db", str(out / "syndicate.sqlite")]).output.splitlines()]
    assert any(len(c["sites"]) >= 2 for c in claims)

    # The demo's own server is gone; the output folder, served at --base-url by a plain
    # static server, answers every partner link of the digest with the partner's page.
    links = sorted(set(re.findall(rf'href="({re.escape(base)}/partners/[^"#]+)"', html)))
    assert len(links) >= 4
    port = int(base.rsplit(":", 1)[1])
    server = ThreadingHTTPServer(("127.0.0.1", port), functools.partial(_Quiet, directory=str(out)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        for link in links:
            with urlopen(link, timeout=10) as response:
                page = response.read().decode("utf-8")
            assert response.status == 200 and "<h1" in page, link
            assert "{{base}}" not in page
        with urlopen(f"{base}/{html_path.name}", timeout=10) as response:
            assert response.status == 200
    finally:
        server.shutdown()
        server.server_close()
    assert set(json.loads((out / MARKER).read_text())["written"]) >= {"syndicate.sqlite", "partners",
                                                                         html_path.name}


def test_demo_refuses_a_folder_it_did_not_make_and_changes_nothing(tmp_path):
    out = tmp_path / "mine"
    (out / "sub").mkdir(parents=True)
    (out / "notes.txt").write_text("my notes")
    (out / "sub" / "keep.md").write_text("keep")
    result = CliRunner().invoke(cli, ["demo", "--out", str(out)])
    assert result.exit_code == 2 and "was not made by `syndicate demo`" in result.output, result.output
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["notes.txt", "sub", "sub/keep.md"]
    assert (out / "notes.txt").read_text() == "my notes"
    file = tmp_path / "a-file"
    file.write_text("x")
    assert CliRunner().invoke(cli, ["demo", "--out", str(file)]).exit_code == 2 and file.read_text() == "x"


def test_a_folder_the_demo_made_is_reused_and_only_what_it_wrote_is_replaced(tmp_path):
    out = tmp_path / "demo"
    kept = claim_output_folder(out)  # a new folder: created and marked
    assert kept == set() and (out / MARKER).is_file()
    (out / "syndicate.sqlite").write_text("old database")
    (out / "partners").mkdir()
    (out / "partners" / "page.html").write_text("old copy")
    (out / "digest-2026-W47.html").write_text("old digest")
    record_output(out, kept)
    (out / "notes.txt").write_text("written by the user after the demo")  # not the demo's
    (out / "outside").mkdir()
    (tmp_path / "precious.txt").write_text("outside the folder")
    # a marker that names paths outside the folder is not followed there
    marker = json.loads((out / MARKER).read_text())
    marker["written"] += ["../precious.txt", "/etc/hostname", ".."]
    (out / MARKER).write_text(json.dumps(marker))

    kept = claim_output_folder(out)
    assert kept == {"notes.txt", "outside"}
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "notes.txt", "outside"]
    assert (tmp_path / "precious.txt").read_text() == "outside the folder"
    assert (out / "notes.txt").read_text() == "written by the user after the demo"

    (out / "syndicate.sqlite").write_text("new database")
    record_output(out, kept)
    assert json.loads((out / MARKER).read_text())["written"] == ["syndicate.sqlite"]
