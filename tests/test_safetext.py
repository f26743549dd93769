"""pipeline/safetext.py: which characters of partner text survive storing and showing."""
from __future__ import annotations

import pytest

from pipeline.safetext import clean_json, clean_text, terminal_text


@pytest.mark.parametrize("raw, kept", [
    ("plain text, unchanged", "plain text, unchanged"),
    ("copy \x1b]52;c;Y3VybCBldmlsfHNo\x07me", "copy me"),  # OSC 52 (clipboard), BEL-terminated
    ("a \x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\ here", "a link here"),  # OSC 8, ST-terminated
    ("hid\x1b[8mden\x1b[0m", "hidden"),  # CSI: conceal, reset
    ("8-bit \x9b31mCSI and \x9d0;title\x9c OSC", "8-bit CSI and  OSC"),
    ("unterminated \x1b]52;c;abc rest", "unterminated 52;c;abc rest"),  # only the introducer goes
    ("nul\x00 and bell\x07 and del\x7f and c1\x85nel", "nul and bell and del and c1 nel"),
    ("lines\r\nand\rcarriage", "lines\nand\ncarriage"),
    ("form\x0cfeed\x0bvertical", "form feed vertical"),
    ("tab\tand\nnewline stay", "tab\tand\nnewline stay"),
    ("lone \ud800 surrogate", "lone \ufffd surrogate"),
    ("xml non-characters \ufffe\uffff gone", "xml non-characters  gone"),
    ("RTL mark \u200f and joiner \u200d stay", "RTL mark \u200f and joiner \u200d stay"),
])
def test_clean_text(raw, kept):
    assert clean_text(raw) == kept
    assert clean_text(kept) == kept  # idempotent


def test_clean_text_is_linear_on_hostile_input():
    text = "\x1b]" * 200_000 + "x"  # many unterminated control strings: no backtracking blow-up
    assert clean_text(text).endswith("x")


def test_clean_json_cleans_every_string_and_keeps_types():
    from dataclasses import dataclass

    @dataclass(frozen=True, slots=True)
    class Row:
        title: str
        tags: tuple[str, ...]

    assert clean_json({"a\x00": ["b\x1b[2J", 3, None, {"c": "d\x07"}]}) == {"a": ["b", 3, None, {"c": "d"}]}
    assert clean_json([Row("t\x00", ("x\x07", "y"))]) == [Row("t", ("x", "y"))]


def test_terminal_text_shows_controls_and_format_characters_escaped():
    shown = terminal_text("a\x1b[2Jb \u202egnp.exe\nc")
    assert shown == "a\\x1b[2Jb \\u202egnp.exe\\nc"
    assert terminal_text("café – naïve") == "café – naïve"
