"""Partner text made safe to keep and to show: the one place that decides which characters
of a partner's string survive.

- `clean_text`: for storing and for plain-text formats (the digest's .txt, .md, .eml; CSV;
  XML). Removes terminal escape sequences whole (CSI such as `ESC[2J` or `ESC[8m`, OSC such
  as OSC 52 "set the clipboard" and OSC 8 "hyperlink", DCS/APC/PM/SOS strings, in their
  7-bit and 8-bit forms), the C0 controls but tab and newline (NUL included: PostgreSQL
  cannot store it, SQLite can, and both engines must keep the same text), DEL and the C1
  controls, and the non-characters U+FFFE/U+FFFF that XML forbids; a lone surrogate (JSON-LD
  can carry `"\\ud800"`) becomes U+FFFD. A carriage return becomes a newline; the other
  controls Python counts as white space (vertical tab, form feed, the separators, NEL) become
  a space, so words on either side stay apart. Everything else is kept, format characters
  (bidi marks, zero-width joiners) included: they belong to Arabic, Hebrew, Persian text.
- `terminal_text`: for a terminal, where format characters can still mislead (a bidi override
  reverses what follows): every control and format character shown escaped (`\\x1b`,
  `\\u202e`), so the operator sees it and the terminal does not act on it.

Pure, no imports from the package: the store, the publisher and the CLI all call it.
"""
from __future__ import annotations

import dataclasses
import re
import unicodedata

# An escape sequence, whole (ECMA-48): CSI with its parameters; a control string (OSC, DCS,
# SOS, PM, APC) up to its terminator (BEL or ST); any other ESC with its intermediate and
# final bytes. An unterminated control string loses only its introducer, not the rest of the
# partner's text. Possessive quantifiers: linear time on any input.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[\x30-\x3f]*+[\x20-\x2f]*+[\x40-\x7e]?"
    r"|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*+(?:\x07|\x1b\\|\x9c)"
    r"|\x1b[\x20-\x2f]*+[\x30-\x7e]?")
_SPACE_CONTROLS = "\x0b\x0c\x1c\x1d\x1e\x1f\x85"
_DROPPED = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_NEEDS_WORK = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")
_TO_SPACE = str.maketrans({c: " " for c in _SPACE_CONTROLS})


def clean_text(text: str) -> str:
    """`text` without escape sequences and control characters (but tab and newline)."""
    if not _NEEDS_WORK.search(text):  # nearly every string: one scan, no copy
        return text
    text = _ESCAPES.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_TO_SPACE)
    text = _DROPPED.sub("", text)
    return _SURROGATE.sub("\ufffd", text)


def clean_optional(text: str | None) -> str | None:
    return None if text is None else clean_text(text)


def clean_json(value):
    """Every string in a value cleaned: in dicts (keys included), lists, tuples and
    dataclass instances (rebuilt with `dataclasses.replace`), each kept as its type."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_json(k): clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(clean_json(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: clean_json(getattr(value, f.name))
                                             for f in dataclasses.fields(value) if f.init})
    return value


def terminal_text(text: object) -> str:
    """Partner-derived text for a terminal: control and format characters (escape
    sequences, bidi overrides, line breaks) shown escaped instead of acting on the terminal."""
    text = str(text)
    if text.isprintable():  # no control, format or separator character: nothing to do
        return text
    return "".join(ch if unicodedata.category(ch)[0] != "C" else ch.encode("unicode_escape").decode("ascii")
                   for ch in text)
