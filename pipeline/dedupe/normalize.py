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
