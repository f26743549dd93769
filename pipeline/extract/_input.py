"""What counts as an HTML page: bytes that are not one are refused before parsing.

Owns: recognising binary input (PDFs, executables, archives, images, anything with NUL or
control bytes) and, for a whole page given on its own (a file, standard input), text with
no markup at all. Must not: parse, decode beyond a peek, or read files; the caller reads
(with its size cap) and passes bytes.

Why: lxml's HTML parser "recovers" from anything, so a PDF became a page of garbage
sentences, and a file of NUL bytes an empty article.
"""
from __future__ import annotations

import codecs
import re

from pipeline.errors import ParseError, TooLarge

# Leading bytes of common non-HTML files, and what to call them in an error message.
_MAGIC = (
    (b"%PDF-", "a PDF document"), (b"\x7fELF", "an ELF executable"), (b"MZ\x90\x00", "a Windows executable"),
    (b"\xcf\xfa\xed\xfe", "a Mach-O executable"), (b"\xce\xfa\xed\xfe", "a Mach-O executable"),
    (b"\xca\xfe\xba\xbe", "a Mach-O or Java class file"), (b"\x00asm", "a WebAssembly module"),
    (b"PK\x03\x04", "a ZIP archive (or an Office document)"), (b"\x1f\x8b", "gzip-compressed data"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"), (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\xfd7zXZ\x00", "an XZ archive"), (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Office document"),
    (b"%!PS", "a PostScript document"), (b"{\\rtf", "an RTF document"), (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"GIF87a", "a GIF image"), (b"GIF89a", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"), (b"RIFF", "a RIFF file (audio, video or image)"), (b"OggS", "an Ogg file"),
    (b"ID3", "an MP3 file"), (b"fLaC", "a FLAC file"), (b"\x00\x00\x01\x00", "an icon file"),
)
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f]")
_MARKUP = re.compile(rb"<\s*[A-Za-z!?/]")
PEEK = 8192


def binary_reason(data: bytes) -> str | None:
    """Why the start of `data` is not text (so not an HTML page), or None."""
    head = data[:PEEK]
    for bom in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        if head.startswith(bom):
            return None  # UTF-16 text: its NUL bytes are half of each character
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return f"looks like {what}"
    if b"\x00" in head:
        return "binary data (NUL bytes)"
    controls = len(_CONTROL.findall(head))
    if controls and controls > len(head) // 100:
        return "binary data (control bytes)"
    return None


def not_html_reason(data: bytes) -> str | None:
    """Why `data`, given as a whole page, is not an HTML page, or None: binary, or text
    without a single tag in its first 64 KB."""
    reason = binary_reason(data)
    if reason:
        return reason
    head = data[:65536]
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    if not head.strip():
        return "it is empty"
    if not _MARKUP.search(head):
        return "no HTML markup in it"
    return None


def read_page_input(stream, limit: int, *, data: bytes | None = None) -> bytes:
    """Read one page from a binary stream (a file, standard input) with the size cap of
    fetched pages, refusing what is not an HTML page. The first bytes are checked before
    the rest is read, so `/dev/zero` or a large binary stops at once. With `data`, only
    the checks run (a body already read)."""
    if data is None:
        data = stream.read(PEEK)
        reason = binary_reason(data)
        if reason is None and len(data) == PEEK:
            rest = stream.read(limit + 1 - len(data))
            data += rest
            if len(data) > limit:
                raise TooLarge(f"over the {limit:,}-byte limit of a page")
    reason = not_html_reason(data)
    if reason:
        raise ParseError(f"not an HTML page: {reason}", kind="not-html")
    return data
