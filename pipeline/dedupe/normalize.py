"""Text keys for matching mentions: case, quotes, dashes, punctuation and spacing folded."""
from __future__ import annotations

import re
import unicodedata

_PUNCT = re.compile(r"[^\w%' ]+")
_SPACE = re.compile(r"\s+")
_QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def normalize_for_match(text: str) -> str:
    """A key under which trivially different copies of a sentence are equal."""
    s = unicodedata.normalize("NFKC", text).lower().translate(_QUOTES)
    s = _PUNCT.sub(" ", s)
    return _SPACE.sub(" ", s).strip()


# Content words: letters only, stop words (scikit-learn's English list) dropped, each cut to
# its first few letters. Truncation is a crude stemmer, but it is language-general and
# needs no word list of ours: "tolerance"/"tolerant", "reduced"/"reducing" and
# "withdrawal"/"withdraw" fall together, which is what the overlap evidence needs.
_WORD = re.compile(r"[a-z][a-z']+")
STEM_LENGTH = 6


def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


_STOP: frozenset[str] | None = None


def content_terms(text: str, *, stem_length: int = STEM_LENGTH) -> frozenset[str]:
    """The set of truncated content words of a sentence, for IDF-weighted overlap."""
    return content_terms_of_key(normalize_for_match(text), stem_length=stem_length)


def content_terms_of_key(key: str, *, stem_length: int = STEM_LENGTH) -> frozenset[str]:
    """`content_terms` of a text already through `normalize_for_match` (it is idempotent)."""
    global _STOP
    if _STOP is None:
        _STOP = _stop_words()
    out = set()
    for w in _WORD.findall(key):
        w = w.removesuffix("'s").strip("'")
        if len(w) < 3 or w in _STOP:
            continue
        out.add(w[:stem_length])
    return frozenset(out)


# A leading "Label:" (a list item's bold lead, "Parking: Use the east lot.", "Timing: Seizures
# come within 48 hours.") names the topic the sentence is filed under, not what it says: two
# items under the same label share its words whatever they state. Up to four words, opening
# with a capital or a figure, before a colon, with at least three words after it.
_LABEL = re.compile(r"^\s*([A-Z0-9][\w'&/\- ]{0,40}?)\s*:\s+(?=\S+\s+\S+\s+\S)")
LABEL_WORDS = 4


def split_label(text: str) -> tuple[str, str]:
    """(label, body) of a sentence that opens with a short "Label:"; ("", text) otherwise."""
    m = _LABEL.match(text)
    if not m or len(m.group(1).split()) > LABEL_WORDS:
        return "", text
    return m.group(1), text[m.end():]


def evidence_terms(text: str, *, stem_length: int = STEM_LENGTH) -> frozenset[str]:
    """The content words that count as evidence of what a sentence says: `content_terms` of
    the sentence without a leading label (a label two sentences share is no evidence that
    they say the same thing)."""
    return content_terms(split_label(text)[1], stem_length=stem_length)
