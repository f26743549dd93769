"""The cue words of a sales pitch, a teaser and a sentence that leans on the one before.

Owns: the general English signals the labels use (no phrases of any partner or development
page): a phone number or e-mail address; a contact verb addressed to the reader ("Call us",
"Reach out today", "Contact our admissions team"); the first-person plural offering a
service at the start of a clause ("we offer", "we're here to support you", "Our team is
committed"); the partner naming itself (`Partner`); teasers and signposts ("keep reading",
"let's take a closer look", "see our previous post here"); a sentence that leans on the one
before it (`leans_on_previous`, a feature of the label model). A first-person plural inside
a subordinate clause does not make a pitch: "Support groups, like the ones we offer,
help..." states a fact about support groups.
Must not: decide a label (`_labels` does, with the learned model) or look at HTML.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ._text import collapse_space as collapse

PHONE = re.compile(
    r"(?<![\w.])(?:\+?1[\s.-]?)?(?:\(\d{3}\)[\s.-]?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w])"
    r"|(?<![\w.])\+\d{1,3}(?:[\s.-]?\(?\d{1,4}\)?){2,5}(?![\w])"
    r"|\b1-8\d\d-[A-Z0-9-]{7,}\b"
)
_DIGIT_RUN = re.compile(r"\d{3}")
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")

# Verbs that ask the reader to get in touch or act on the partner's offer.
_CONTACT = (
    r"call|phone|ring|text|e-?mail|message|contact|reach\s+out|get\s+in\s+touch|get\s+help|"
    r"visit|stop\s+by|come\s+(?:see|visit)|schedule|book|request|verify|"
    r"check\s+(?:your|our)|sign\s+up|subscribe|join|enroll|register|apply|click|tap|"
    r"download|get\s+started|start\s+(?:your|today|now)|take\s+the\s+first\s+step|"
    r"don'?t\s+(?:wait|hesitate)|do\s+not\s+(?:wait|hesitate)|let\s+us|give\s+us|"
    r"fill\s+out|connect\s+with|find\s+out\s+(?:more|how)|learn\s+more|discover\s+how|"
    r"explore\s+(?:how|our)|ask\s+(?:us|about)|begin\s+your|contact"
)
# An optional leading clause ("If ..., ", "Today, ") before an imperative.
_LEAD = r"(?:(?:if|when|whenever|whether|for|to|today|now|so|and|or|please|then|instead)\b[^,;]{0,160}[,;]\s*)?"
_IMPERATIVE = re.compile(r"^" + _LEAD + r"(?:please\s+)?(?:" + _CONTACT + r")\b", re.IGNORECASE)
_CONTACT_US = re.compile(
    r"\b(?:call|contact|reach(?:\s+out)?\s+to|reach|email|e-mail|text|message|visit|phone|ask|join|"
    r"speak\s+(?:with|to)|talk\s+(?:with|to)|chat\s+with|connect\s+with|give)\s+(?:us|our\s+\w+)\b",
    re.IGNORECASE)

# First-person plural offering something, at the start of a clause.
_SERVICE = (
    r"offer|offers|provide|provides|deliver|specialize|specialise|treat|help|support|accept|"
    r"work\s+with|believe|welcome|invite|empower|understand|care|serve|tailor|create|"
    r"design|partner|strive|aim|pride|focus|use|combine|also\s+offer|can\s+help|can\s+support|"
    r"will\s+help|will\s+work|are\s+(?:here|committed|dedicated|proud|ready|available|able|happy)|"
    r"'re\s+(?:here|committed|dedicated|proud|ready|available|able|happy)|"
    r"have\s+(?:helped|a\s+team|programs?|experts?)|'ve\s+helped"
)
_WE_SERVICE = re.compile(
    r"(?:^|[,;:]\s+|\bat\s+[^,]{2,60},\s+)we(?:\s+(?:also|now|truly|proudly|always|can|will))?\s*(?:" + _SERVICE + r")\b",
    re.IGNORECASE)
_OUR_SUBJECT = re.compile(
    r"(?:^|[,;:]\s+)our\s+(?:[\w-]+\s+){0,3}?(?:team|staff|experts?|clinicians?|specialists?|"
    r"counselors?|therapists?|doctors?|physicians?|nurses?|programs?|program|center|centre|facility|"
    r"facilities|services?|approach|mission|admissions|coordinators?|professionals?|providers?|"
    r"rehab|clinic|treatment)\b",
    re.IGNORECASE)

# Signposts that point to other text rather than state anything. Each comes with a cheap
# substring test so that most sentences skip the regular expression.
_TEASERS = (
    (("reading", "read "), re.compile(r"\b(?:keep|continue)\s+reading\b|\bread\s+(?:on|more|below|further)\b")),
    (("let",), re.compile(r"^let'?s\b|^let\s+us\s+(?:take|look|explore|dive|examine|discuss)\b")),
    (("this ",), re.compile(r"\b(?:in|throughout)\s+this\s+(?:article|post|blog|guide|piece|page)\b[^.]*\b(?:we|you)\b")),
    (("we'll", "we will"), re.compile(r"\b(?:we'll|we\s+will)\s+(?:explore|discuss|look|cover|examine|dive|break\s+down|walk)\b")),
    (("for more",), re.compile(r"^for\s+more\s+(?:information\s+)?(?:about|on|see|details)\b")),
    (("blog", "post", "article", "guide", "page"),
     re.compile(r"\b(?:see|read|check\s+out|visit)\s+(?:our|the|this|my|a)?\s*(?:previous|earlier|last|next|related|"
                r"other|recent|full|complete)?\s*(?:blog|post|article|guide|page)s?\b")),
    (("click here", "see below", "see above"), re.compile(r"\bclick\s+here\b|\bsee\s+(?:below|above)\b")),
)


def is_teaser(low: str) -> bool:
    for needles, rx in _TEASERS:
        if any(n in low for n in needles) and rx.search(low):
            return True
    return False


# The text as the subject of its own sentence: "This guide explains...", "In this article,
# we will...", "The following sections cover...", "The chart below shows...". General English
# meta-discourse: the sentence announces what the page says, it states nothing itself.
_TEXT_NOUN = (r"(?:article|guide|post|page|section|sections|blog|chart|table|list|overview|summary|"
              r"infographic|diagram|graph|video|piece|series|resource)")
_ABOUT_ITSELF = re.compile(
    r"^(?:in\s+|on\s+)?(?:this|the\s+following|the\s+next|our)\s+(?:[\w-]+\s+){0,2}?" + _TEXT_NOUN + r"\b"
    r"|^(?:in\s+)?the\s+(?:[\w-]+\s+){0,2}?(?:" + _TEXT_NOUN[3:-1] + r"|timeline)\s+(?:below|that\s+follows?)\b",
    re.I)


def about_itself(text: str) -> bool:
    """Is the page's own text the subject ("This guide explains...", "In this post, we...")?"""
    return bool(_ABOUT_ITSELF.match(text.strip()))


_POINTER_ANCHORS = {"here", "click here", "this post", "this article", "this page", "read more",
                    "learn more", "more", "this blog", "this guide", "previous blog", "this link"}


@dataclass(frozen=True, slots=True)
class LinkFact:
    text: str
    internal: bool
    article_like: bool  # points to a post rather than a service page


@dataclass
class Partner:
    """Names that identify the partner in its own text."""

    patterns: list

    @classmethod
    def from_names(cls, names: list[str]) -> "Partner":
        generic = {"recovery", "health", "healthcare", "behavioral", "behavioural", "center", "centers",
                   "centre", "treatment", "rehab", "rehabilitation", "inc", "llc", "ltd", "group",
                   "clinic", "clinics", "services", "wellness", "addiction", "mental", "of", "the",
                   "and", "blog", "institute", "network", "care", "medical", "detox", "program",
                   "programs", "house", "home", "homes", "co", "company", "&", "at", "for", "a"}
        pats = []
        seen = set()
        for name in names:
            if not name:
                continue
            name = collapse(name)
            key = name.lower()
            if len(key) >= 3 and key not in seen:
                seen.add(key)
                pats.append(re.compile(r"(?<![\w])" + re.escape(name).replace(r"\ ", r"[\s-]+") + r"(?![\w])",
                                       re.IGNORECASE))
            # The distinctive part alone ("Archway" of "Archway Behavioral Health") is a
            # proper noun: matched with its capital so "a village" never reads as "Village".
            words = [w for w in re.split(r"[\s\-]+", name) if w]
            distinctive = " ".join(w for w in words if w.lower().strip(".,") not in generic)
            if distinctive and len(distinctive) >= 3 and distinctive.lower() not in seen and distinctive[0].isupper():
                seen.add(distinctive.lower())
                forms = sorted({distinctive, distinctive.upper(), distinctive.title()}, key=len, reverse=True)
                pats.append(re.compile(r"(?<![\w])(?:" + "|".join(re.escape(f).replace(r"\ ", r"[\s-]+") for f in forms)
                                       + r")(?![\w])"))
        return cls(pats)

    def named_in(self, text: str) -> bool:
        return any(p.search(text) for p in self.patterns)


def _words(text: str) -> int:
    return len(re.findall(r"[A-Za-z0-9']+", text))


# A sentence that leans on the one before it: its subject is a bare pronoun or a pointer back ("That is why a night of drinking...",
# "It is usually delivered over...", "They can be unsettling, but...", "None of these are
# magic."), it opens with a connective that continues an argument ("So ...", "And ..."), or
# it only adds to what came before ("There are physical effects, too."). A demonstrative
# with its noun ("These receptors are...", "This binding causes...") names its subject and
# stands alone; so does "It" followed by a full verb ("It acts quickly on the brain").
# Not a rule any more (both golds count "They are responsible for..." and "It is
# characterized by..." as claims): one feature among the label model's.
_AUX = (r"is|are|was|were|isn't|aren't|wasn't|weren't|'s|'re|can|can't|cannot|could|may|might|will|won't|"
        r"would|should|must|usually|often|generally|typically|still|then|tend|tends|do|does|don't|doesn't")
_LEANS = (
    re.compile(r"^(?:that|this|it)(?:\s+is|'s|\s+was)\s+(?:why|how|because|what|where|when|the\s+reason)\b"),
    re.compile(r"^(?:it|they|these|those|this|that)\s+(?:" + _AUX + r")\b"),
    re.compile(r"^(?:none|all|each|both|many|most|some|neither|either|one|any)\s+of\s+"
               r"(?:these|those|them|this|that|it)\b"),
    re.compile(r"^(?:[^,.;:]{1,40},\s*){1,2}(?:they\s+\w+|(?:these|those)\s+(?:" + _AUX + r")\b)"),
    re.compile(r"^(?:so|and)\s+"),
    re.compile(r"^there(?:\s+(?:is|are|was|were)|'s|'re)\b.*,?\s+(?:too|as\s+well)[.!]?$"),
)
# "Short answer: yes." states nothing: an answer particle behind a label.
_LABELLED_PARTICLE = re.compile(r"^[A-Za-z][\w' -]{0,30}:\s+(.*)$")


def leans_on_previous(low: str) -> bool:
    """Does this sentence (lower case) need the one before it to be understood?"""
    return any(rx.search(low) for rx in _LEANS)
