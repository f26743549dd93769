"""Text normalization and sentence splitting.

Owns: turning a run of page text into sentences, and the normalized form of a sentence.
Must not: know about HTML. Offsets are kept so callers can map links and footnote markers
back onto the sentences that carry them.
"""
from __future__ import annotations

import re
import unicodedata

# White space as partners type it: U+00A0 after a full stop ("doubled spaces" that a CMS
# stored as NBSP + space), thin spaces, zero-width joiners left by copy-paste.
_WS = "\u0009\u000a\u000b\u000c\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_WS_RUN = re.compile(f"[{_WS}]+")
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")

_TRANSLATE = str.maketrans({
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2212": "-",
    "\u2026": "...",
    "\ufb01": "fi", "\ufb02": "fl", "\ufb00": "ff", "\ufb03": "ffi", "\ufb04": "ffl",
})
# An em dash (or a horizontal bar) joins clauses, not words: "trend\u2014fentanyl" reads as
# "trend - fentanyl", never as the compound "trend-fentanyl".
_EM_DASH = re.compile(f"[{_WS}]*[\u2014\u2015][{_WS}]*")
# Guillemets quote when they touch a word ("\u00abnon\u00bb"); with a space on both sides they
# separate the parts of a breadcrumb ("Home \u00bb Blog \u00bb Sleep") and stay as they are.
_GUILLEMET_QUOTE = re.compile(r"[\u00ab\u00bb](?!\s)|(?<!\s)[\u00ab\u00bb]")


_INVISIBLE_CHARS = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")


def collapse_space(text: str) -> str:
    """The display form: the partner's characters, white space folded to single spaces."""
    if not _INVISIBLE_CHARS.isdisjoint(text):
        text = _INVISIBLE.sub("", text)
    return _WS_RUN.sub(" ", text).strip()


def normalize_text(text: str) -> str:
    """The comparable form: NFC, straight quotes, ASCII dashes, single spaces."""
    return normalize_display(collapse_space(text))


def normalize_display(display: str) -> str:
    """normalize_text for a string already through collapse_space (the hot path)."""
    if not unicodedata.is_normalized("NFC", display):
        display = unicodedata.normalize("NFC", display)
    if "\u2014" in display or "\u2015" in display:
        display = _EM_DASH.sub(" - ", display)
    if "\u00ab" in display or "\u00bb" in display:
        display = _GUILLEMET_QUOTE.sub('"', display)
    return display.translate(_TRANSLATE)


# --- sentence splitting ---------------------------------------------------------------------

# Words that end in a full stop without ending the sentence. General English abbreviations,
# not words from any partner article.
_ABBREVIATIONS = frozenset("""
    mr mrs ms mx dr prof sr jr st mt ft rev hon gen col lt sgt capt cmdr gov sen rep pres
    vs v al approx apt avg dept est inc ltd co corp llc ed eds jan feb mar apr jun jul aug
    sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun ca cf ibid viz resp incl
""".split())
# Abbreviations only before a number ("No. 5", "Fig. 2", "pp. 10"): "The answer is no. Then"
# ends a sentence. Units ("mg", "km") take no full stop, so "3.5 mg. It" ends one too.
_BEFORE_NUMBER = frozenset("no nos vol vols fig figs pp p ch sec para art eq ref refs".split())
# Dotted abbreviations ("e.g.", "i.e.", "a.m.", "U.S.", "Ph.D.") never end a sentence here.
_DOTTED = re.compile(r"(?:\b[A-Za-z]\.){2,}$")

_BOUNDARY = re.compile(
    r"""([.!?\u2026]+|\.\.\.)        # the terminator
        (["'\u201d\u2019)\]]*)       # closing quotes and brackets stay with the sentence
        (?=[""" + _WS + r"""]+       # then white space (NBSP included)
        ["'\u201c\u2018(\[]*         # and the next sentence may open with a quote
        [A-Z0-9\u00c0-\u00de])       # and starts with a capital or a digit
    """,
    re.VERBOSE,
)
_WORD_BEFORE = re.compile(r"([A-Za-z][A-Za-z.]*)$")
# An image's alt text or caption glued to the sentence after it, with no space or stop
# between them: "...as he struggles with a headacheAlcohol addiction is a serious condition".
# A lower-case word of four letters or more runs straight into a capitalized word with no
# other capital: cut there, when at least three words come before and two after (so
# "iPhone", "McDonald", "JavaScript" and "use readFile to" stay whole).
_GLUE = re.compile(r"\b[a-z]{4,}(?=[A-Z][a-z]{2,}\b)")


def _is_abbreviation(text: str, dot_at: int, next_char: str = "") -> bool:
    """Does the full stop at `dot_at` close an abbreviation rather than a sentence?"""
    offset = max(0, dot_at - 32)
    m = _WORD_BEFORE.search(text, offset, dot_at)
    if not m:
        return False
    word = m.group(1)
    if "." in word and _DOTTED.search(text[m.start():dot_at + 1]):
        return True
    low = word.lower()
    if low in _ABBREVIATIONS:
        return True
    if low in _BEFORE_NUMBER and next_char.isdigit():
        return True
    # A single capital initial, as in "J. Smith"; but not "vitamin D." ending a sentence
    # is rarer than initials in the prose we read, so initials win.
    if len(word) == 1 and word.isupper():
        before = text[m.start() - 1] if m.start() > 0 else " "
        return not before.isalpha()
    return False


def _next_visible(text: str, at: int) -> str:
    for ch in text[at:at + 8]:
        if not ch.isspace() and ch not in "\"'\u201c\u2018([":
            return ch
    return ""


def split_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, white space trimmed, in order."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        term = m.group(1)
        if term == "." and _is_abbreviation(text, m.start(1), _next_visible(text, m.end())):
            continue
        end = m.end()
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))
    if _GLUE.search(text):
        spans = [piece for s, e in spans for piece in _unglue(text, s, e)]
    out = []
    for s, e in spans:
        while s < e and (text[s].isspace() or _INVISIBLE.match(text[s])):
            s += 1
        while e > s and (text[e - 1].isspace() or _INVISIBLE.match(text[e - 1])):
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def _unglue(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """(s, e) cut where a caption runs into the next sentence (see `_GLUE`)."""
    out = []
    for m in _GLUE.finditer(text, s, e):
        cut = m.end()
        if len(text[s:m.start()].split()) >= 3 and len(text[cut:e].split()) >= 2:
            out.append((s, cut))
            s = cut
    out.append((s, e))
    return out


def split_sentences(text: str) -> list[str]:
    """Split running text into sentences (display form).

    Survives abbreviations ("Dr.", "e.g."), decimals ("3.5"), phone numbers
    ("770.759.7474"), and doubled or non-breaking spaces between sentences. Line breaks
    are hard boundaries: a list item or a line never runs into the next one.
    """
    out: list[str] = []
    for line in re.split(r"[\n\r\u2028\u2029]+", text):
        for s, e in split_spans(line):
            sentence = collapse_space(line[s:e])
            if sentence:
                out.append(sentence)
    return out
