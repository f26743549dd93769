"""`syndicate extract` and `extract_article` on input that is not a readable HTML page:
binary files, a PDF, an executable, endless input, plain text, a page nested 100,000 levels
deep. Each must give a clear error and a non-zero exit, never sentences of garbage and
never an empty article reported as fine."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from pipeline.cli import cli
from pipeline.errors import ParseError
from pipeline.extract import extract_article, not_html_reason
from pipeline.fetch import FetchConfig

PAGE = b"<html><body><article><p>Walking after meals lowers blood sugar, several trials found.</p></article></body></html>"


def run(*args, stdin: bytes | None = None):
    return CliRunner().invoke(cli, ["extract", *args], input=stdin)


def test_a_real_page_still_extracts(tmp_path):
    page = tmp_path / "page.html"
    page.write_bytes(PAGE)
    result = run(str(page))
    assert result.exit_code == 0
    assert "Walking after meals lowers blood sugar" in result.output


@pytest.mark.parametrize("name, data, what", [
    ("paper.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n" * 20, "PDF"),
    ("photo.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "PNG"),
    ("archive.zip", b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(200), "ZIP"),
    ("noise.bin", bytes((i * 37) % 256 for i in range(5000)), "binary"),
])
def test_binary_files_are_not_html_pages(tmp_path, name, data, what):
    path = tmp_path / name
    path.write_bytes(data)
    result = run(str(path))
    assert result.exit_code == 1
    assert "not an HTML page" in result.output and what in result.output
    assert result.output.count("\n") == 1  # one error line, no extracted "sentences"


def test_an_executable_is_not_an_html_page():
    result = run(sys.executable)  # the Python interpreter: a real ELF / Mach-O / PE file
    assert result.exit_code == 1
    assert "not an HTML page" in result.output


def test_plain_text_on_stdin_is_not_an_html_page():
    result = run("-", stdin=b"Just a line of text, no markup.\n")
    assert result.exit_code == 1
    assert "not an HTML page: no HTML markup" in result.output


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_dev_zero_returns_at_once():
    result = run("/dev/zero")
    assert result.exit_code == 1
    assert "not an HTML page" in result.output


def test_endless_text_stops_at_the_page_size_cap(tmp_path):
    limit = FetchConfig().max_bytes
    big = tmp_path / "big.html"
    with big.open("wb") as f:
        f.write(b"<html><body><p>")
        chunk = b"word " * 20000
        for _ in range(limit // len(chunk) + 2):
            f.write(chunk)
    result = run(str(big))
    assert result.exit_code == 1
    assert f"{limit:,}-byte limit" in result.output


def test_a_page_nested_100000_levels_deep_is_refused(tmp_path):
    page = tmp_path / "deep.html"
    page.write_bytes(b"<html><body>" + b"<div>" * 100_000 + b"<p>At the bottom of the page.</p>"
                     + b"</div>" * 100_000 + b"</body></html>")
    result = run(str(page))
    assert result.exit_code == 1
    assert "nested" in result.output
    with pytest.raises(ParseError):
        extract_article(page.read_bytes(), "https://e.example/deep")


@pytest.mark.parametrize("depth", [300, 1500])
def test_deep_but_parseable_pages_are_extracted(depth):
    html = b"<html><body>" + b"<div>" * depth + b"<p>At the bottom of a deep page, the text is read.</p>" \
        + b"</div>" * depth + b"</body></html>"
    article = extract_article(html, "https://e.example/deep")
    assert "At the bottom of a deep page" in article.text


def test_an_empty_page_is_an_error_not_an_empty_article(tmp_path):
    page = tmp_path / "empty.html"
    page.write_bytes(b"<html><head><title>Nothing</title></head><body><div></div></body></html>")
    result = run(str(page))
    assert result.exit_code == 1
    assert "no article text" in result.output


def test_pipeline_extraction_refuses_binary_bodies():
    with pytest.raises(ParseError) as err:
        extract_article(b"\x7fELF\x02\x01\x01\x00" + bytes(400), "https://e.example/file")
    assert err.value.kind == "not-html"


@pytest.mark.parametrize("data", [
    "<p>Caf\u00e9</p>".encode("utf-16"),  # with its BOM: text, though half its bytes are NUL
    b"<!doctype html><title>x</title><p>Hello</p>",
    "<html><body><p>\u00fcber</p></body></html>".encode("cp1252"),
])
def test_text_encodings_are_not_mistaken_for_binary(data):
    assert not_html_reason(data) is None
