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
