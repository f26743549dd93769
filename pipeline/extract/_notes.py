"""Page notes inside the article container: photo credits, copyright lines, ad labels and
bare date lines. They sit between the paragraphs but are the page's, not the article's.

Owns: the generic, multilingual cues of such short lines (no site's wording).
Must not: touch the tree; it only judges one block's text.
"""
from __future__ import annotations

import re

# "Foto: X", "(Credit: X)", "| © X", "Abbildung 4: ...", "Quelle: X", "Source: X"
_CREDIT = re.compile(
    r"(?:^|[\s(\[|/])(?:\(c\)|copyright|fotos?|photos?|picture|image|bild(?:er)?|credits?|quelle|source|fuente|"
    r"źródło|zdjęcie|fot\.|abbildung|abb\.|figure|fig\.)\s*(?:\d+\s*)?[:|/]|©|copyright", re.I)
# a line that is only an ad label
_AD = re.compile(r"^(?:advertisement|advertising|anzeige|werbung|publicidad|publicité|reklama|pubblicità|"
                 r"sponsored|ad)$", re.I)
_MONTHS = (r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|januar|februar|märz|mai|juni|juli|oktober|"
           r"dezember|stycznia|lutego|marca|kwietnia|maja|czerwca|lipca|sierpnia|września|października|"
           r"listopada|grudnia|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|"
           r"noviembre|diciembre)\w*")
_DATE = re.compile(r"\b\d{1,2}\.\s?\d{1,2}\.\s?(?:19|20)\d{2}\b|\b(?:19|20)\d{2}-\d{2}-\d{2}\b|"
                   r"\b\d{1,2}\.?\s+" + _MONTHS + r"\.?,?\s+(?:19|20)\d{2}|"
                   + _MONTHS + r"\.?\s+\d{1,2},?\s+(?:19|20)\d{2}", re.I)
_END = ('.', '!', '?', '\u2026', '"', '\u201c', '\u201d', '\u00bb')
CREDIT_MAX = 160  # a credit or caption line is short; a paragraph that cites a source is not
DATE_WORDS = 8    # "Published on 7 April 2021 | News": a date line, not a sentence with a date


def is_page_note(text: str) -> bool:
    """A short line that credits a picture or a source, claims a copyright, labels an ad,
    or only gives a date (collapsed text of one block)."""
    if not text:
        return False
    if len(text) <= CREDIT_MAX and _CREDIT.search(text):
        return True
    if _AD.match(text.strip(" -\u2013:[]()")):
        return True
    return len(text.split()) <= DATE_WORDS and not text.endswith(_END) and bool(_DATE.search(text))


# Calls to the reader that close a page: subscribe, sign up or log in, comment, follow,
# support us (generic multilingual cues; a short line at the very end only).
_READER_CALL = re.compile(
    r"subscri|abonn|newsletter|anmelden|einloggen|eingeloggt|\blog ?in\b|sign ?up|registr|kommentar|"
    r"\bcomments?\b|suscr|telegram|whatsapp|follow us|folgen sie|support (?:our|us)|apóya|click here|"
    r"klicken sie|hier klicken|zapraszamy|subskryp|membership", re.I)
CALL_MAX = 400   # a closing call is a short paragraph
CALL_TAIL = 3    # among the last blocks of the article


def is_reader_call(text: str) -> bool:
    """A short line that asks the reader to subscribe, log in, comment or follow."""
    return len(text) <= CALL_MAX and bool(_READER_CALL.search(text))


# Notices about the page itself: cookie banners, affiliate and advertiser disclosures.
_DISCLOSURE = re.compile(r"\b(?:cookies?|affiliate|advertisers?|compensation|provision|werbelinks?|partner-?links?|"
                         r"afiliad\w*|anunciantes)\b", re.I)
NOTICE_MAX = 300  # a notice is short
NOTICE_EDGE = 2   # among the first or the last blocks of the article


def is_page_notice(text: str) -> bool:
    """A short cookie or affiliate/advertiser disclosure line."""
    return len(text) <= NOTICE_MAX and bool(_DISCLOSURE.search(text))
