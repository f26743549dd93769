"""Plain text pages (no HTML) into sentences with the context the labels read.

Owns: reading a page's text as a reader of the text would: a line without final punctuation
on its own is a heading (or a caption, a byline, a menu entry); a line that opens with a
bullet or a number is a list item; a line that ends with a colon and is followed by list
items leads that list; "Label: text" opens a labelled line. Used for seed text (benchmarks,
the review simulation) and anywhere text arrives without markup.
Must not: label (that is `_labels`) or know about HTML.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ._label_features import SentenceContext
from ._text import collapse_space, normalize_display, split_spans

_BULLET = re.compile(r"^\s*(?:[\u2022\u25cf\u25aa\u25e6\u2023\u2043\u2219*\u2013\u2014-]|\d{1,2}[.)])\s+")
_END = re.compile(r"[.!?:;][\"'\u201d\u2019)\]]*\d{0,2}$")
_LABEL = re.compile(r"^[A-Z][\w'\u2019()/&-]*(?:\s+[\w'\u2019()/&-]+){0,5}\s*:\s+\S")


@dataclass(frozen=True, slots=True)
class PlainSentence:
    """One sentence of a plain text page: display text, normalized text and its context."""

    display: str
    text: str
    context: SentenceContext
    heading: bool = False  # a line of its own without final punctuation
    question: bool = False
    line: int = 0  # the line it came from (0-based, empty lines counted)


def page_sentences(text: str) -> list[PlainSentence]:
    """The sentences of a plain text page in reading order."""
    lines = text.splitlines()
    items = [bool(_BULLET.match(line)) for line in lines]
    out: list[PlainSentence] = []
    index = 0
    after_question = False
    for n, raw in enumerate(lines):
        line = raw.strip()
        if not line:
            continue
        is_item = items[n]
        if is_item:
            line = _BULLET.sub("", line, count=1)
        nxt = next((k for k in range(n + 1, len(lines)) if lines[k].strip()), None)
        next_list = nxt is not None and items[nxt] and not is_item
        spans = split_spans(line)
        whole_heading = (not is_item and len(spans) == 1 and not _END.search(line.rstrip())
                         and not line.endswith("?"))
        labelled = bool(_LABEL.match(line))
        for k, (s, e) in enumerate(spans):
            display = collapse_space(line[s:e])
            if not display:
                continue
            norm = normalize_display(display)
            question = norm.rstrip("\"')]").endswith("?")
            ctx = SentenceContext(block="li" if is_item else "p", index=index, first_in_block=k == 0,
                                  last_in_block=k == len(spans) - 1, next_list=next_list,
                                  labelled=labelled and k == 0, after_question=after_question)
            out.append(PlainSentence(display, norm, ctx, heading=whole_heading, question=question, line=n))
            after_question = question
            if not whole_heading and not question:
                index += 1
    return out
