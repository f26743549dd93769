"""The general signals a sentence's label is learned from: its shape, mood, person and place.

Owns: `SentenceContext` (where a sentence sits: block, place in the article, what follows)
and `sentence_features` (a fixed, named vector of numbers per sentence) for the learned label
model in `_label_model`. Every signal is general English or page shape: length, final
punctuation, a colon ending, whether there is a verb, first/second person, imperative mood,
digits, times and phone numbers, title case, quotation, the block it came from, whether a
list follows. The few word groups below are closed-class English (pronouns, auxiliaries,
subordinators) or the vocabulary of page furniture in general (bylines, navigation, times of
day), never phrases taken from a development page.
Must not: decide a label (the model weighs these), look at HTML, or load the sentence model.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

from ._cues import (PHONE, _CONTACT_US, _EMAIL, _IMPERATIVE, _OUR_SUBJECT, _WE_SERVICE, is_teaser,
                      leans_on_previous)


@dataclass(frozen=True, slots=True)
class SentenceContext:
    """Where a sentence sits on its page. The defaults describe a sentence alone."""

    block: str = "p"  # p, li, td, th, dd, dt, blockquote, figcaption, pre, summary
    index: int = 5  # place among the article's sentences (headings and questions not counted)
    first_in_block: bool = True
    last_in_block: bool = True
    next_list: bool = False  # a list follows this sentence's block (a list lead)
    labelled: bool = False  # its block opens with a short "Label:" ("Parking: ...")
    after_question: bool = False  # the sentence or heading before it asks a question
    names_person: bool = False  # it names a person the page credits (author, reviewer)
    breadcrumb: bool = False  # it is the page's breadcrumb trail (JSON-LD BreadcrumbList names)
    internal_links: int = 0  # links to the site's own service pages
    pointer_link: bool = False  # an internal link whose anchor is "here", "this post"...
    partner_named: bool = False  # it names the publishing site


_WORD = re.compile(r"[A-Za-z][A-Za-z'\u2019-]*|\d[\d,./:%-]*")

_AUX = frozenset("""is are was were be been being am isn't aren't wasn't weren't 's 're 'm can can't cannot could
couldn't may might must shall should shouldn't will won't would wouldn't do does did don't doesn't didn't has have
had hasn't haven't hadn't 'll 've 'd""".split())
# Common English verbs in their base form (the inflected forms are derived below). Used for
# "has a verb" and for the imperative mood; nouns that are also verbs ("sleep", "support")
# are told apart by what follows them.
_VERBS = frozenset("""accept achieve act adapt add address adjust admit advise affect afford agree aim allow
alter appear apply approach argue arise arrange arrive ask assess assist associate assume attach attack attempt
attend attract avoid awaken balance base bear beat become begin behave believe belong benefit bind blame block
boost break breathe bring build burn buy calculate call calm care carry catch cause change charge check choose
claim clean clear climb close collect combine come compare compensate compete complain complete concern conclude
connect consider consist consume contact contain continue contribute control cope cost count cover crash create
cross cry cut damage deal decide decline decrease define delay deliver demand deny depend describe design
destroy determine develop die differ disappear discover discuss disrupt distract divide do double drain draw
dream drink drive drop dull earn ease eat eliminate emerge enable encourage end endure enhance enjoy ensure enter
escalate establish estimate evaluate examine exceed excite exist expand expect experience explain explore expose
express extend face fade fail fall fear feature feel fight fill find finish fit fix flood focus follow force
forget form function gain get give go govern grow guide handle hang happen harm heal hear heighten help hide
hit hold hope hurt identify ignore imagine impact impair improve include increase indicate influence inform
inhibit intensify interact interfere interrupt involve join judge jump keep kill know lack last lead learn
leave lessen let lie lift like limit linger link listen live look lose lower maintain make manage mark match
matter mean measure meet mention mimic minimize miss mix monitor motivate move need note notice observe obtain
occur offer offset open operate order outweigh overcome overwhelm own pass pay peak perceive perform persist pick
place plan play point pose prefer prepare present preserve press prevent proceed produce progress promote
protect prove provide pull push put qualify question raise range reach react read readjust realize rebound
receive recognize recommend recover reduce refer reflect regain regulate reinforce relapse relate release
relieve rely remain remember remind remove repair repeat replace report represent require resist resolve
respond rest restore result return reveal reward rise risk rob rule run rush save say schedule search see seek
seem sell send sense separate serve set settle shake shape share shift shorten show shrink shut sign signal
sit sleep slow smoke solve sound speak specialize spend spike split spread stabilize stand start stay steal
stem stick stimulate stop store strengthen stress stretch strike struggle study subside succeed suffer suggest
suit supply support suppress surge surprise survive suspect sustain swallow sweat switch take talk target
teach tell tend test thank think threaten thrive throw tolerate touch track train transform travel treat
trigger trust try turn understand undergo unfold urge use vary wait wake walk want warn wash watch wear weigh
widen win wish withdraw wonder work worry worsen write yield""".split())
_IRREGULAR = frozenset("""began begun brought built bought came cut dealt did done drank drunk drove driven ate
eaten fell fallen felt found got gotten gave given went gone grew grown heard held kept knew known led left lay
lain let lost made meant met paid put read rose risen ran said saw seen sold sent set showed shown sat slept spoke
spoken spent stood took taken told thought understood woke woken wore worn wrote written""".split())


def _inflections(base: str) -> set[str]:
    forms = {base + "s", base + "ed", base + "d"}
    if base.endswith(("s", "sh", "ch", "x", "z", "o")):
        forms.add(base + "es")
    if base.endswith("y") and base[-2:-1] not in "aeiou":
        forms |= {base[:-1] + "ies", base[:-1] + "ied"}
    if base.endswith("e"):
        forms.add(base + "d")
    return forms


_INFLECTED = _AUX | _IRREGULAR | frozenset(f for v in _VERBS for f in _inflections(v))
_CONTRACTION = ("'s", "'re", "'ve", "'ll", "'d", "'m", "n't")


def _is_verb(word: str, position: int) -> bool:
    """A verb form: inflected, irregular, an auxiliary, a contraction, or (not first) a base
    form ("symptoms include", "people experience")."""
    return (word in _INFLECTED or word.endswith(_CONTRACTION) or (position > 0 and word in _VERBS)
            or (len(word) > 5 and word.endswith("ed")))
_PRON_1S = frozenset("i i'm i've i'd i'll me my mine myself".split())
_PRON_1P = frozenset("we we're we've we'd we'll us our ours ourselves let's".split())
_PRON_2 = frozenset("you you're you've you'd you'll your yours yourself yourselves".split())
_PRON_3 = frozenset("he she they it he's she's they're it's him her them his their its".split())
_DEMONSTRATIVE = frozenset("this these that those such".split())
_CONNECTIVE = frozenset("so and but or also likewise thus then until however still yet plus besides".split())
_SUBORDINATOR = frozenset("if when whenever while because although though unless whether since as after before "
                          "once until which who whose where especially including such even".split())
_NEGATION = frozenset("not no never nothing none n't".split())
_REPORTING = frozenset("said says say told tells asked asks recalls recalled explains explained put".split())
# Furniture in general: who wrote or checked a page, when, and where it sits on the site.
_BYLINE = frozenset("written reviewed review reviewer author authored posted published updated edited "
                    "fact-checked checked medically clinically by editorial".split())
_NAV = frozenset("home blog menu previous next back top skip share print page posts post categories "
                 "category tags tag filed related toggle search older newer continue".split())
_CREDENTIAL = re.compile(r",\s*(?:[A-Z][A-Za-z]{0,3}\.?(?:-[A-Z]+)?\.?(?:\s*[A-Z]\.)?)(?:,|$|\s)")
_MONTH_DAY = re.compile(r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b"
                        r"|\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b", re.I)
_TIME = re.compile(r"\b\d{1,2}(?::\d{2})?\s*(?:a\.?m\.?|p\.?m\.?)(?![a-z])|\b\d{1,2}:\d{2}\b", re.I)
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_MONEY = re.compile(r"[$\u00a3\u20ac]\s?\d")
_PERCENT = re.compile(r"\d\s?%|\bpercent\b", re.I)
_URL = re.compile(r"https?://|www\.|\.com\b|\.org\b", re.I)
_SEPARATORS = re.compile(r"\s[\u00bb\u203a>|/\u2022\u00b7]\s")
_LABEL = re.compile(r"^[A-Z][\w'\u2019/&-]*(?:\s+[\w'\u2019/&-]+){0,3}:\s+\S")
_QUOTE_OPEN = re.compile(r"^[\"'\u201c\u2018\u00ab]")
_QUOTED = re.compile(r"[\"\u201c\u201d]")
_GLUE = re.compile(r"[a-z][A-Z][a-z]")
# Meta-discourse: the text pointing at itself or at what follows.
_SELF_REFERENCE = re.compile(
    r"\b(?:this|the\s+following|the\s+next|our|these)\s+(?:article|post|blog|guide|page|section|sections|"
    r"series|piece|overview|list)\b|\b(?:below|following|read\s+on|here's|here\s+is|here\s+are)\b", re.I)
# Verbs of a text describing itself ("This guide explains...", "the timeline below shows...").
_META_VERB = re.compile(r"\b(?:describ|explain|examin|explor|cover|discuss|outlin|review|unpack|compar|summariz|"
                        r"walk(?:s|ing)?\s+(?:you\s+)?through|break(?:s|ing)?\s+down|look(?:s|ing)?\s+at|"
                        r"take\s+a\s+(?:closer\s+)?look|dissect|answer)\w*", re.I)
# The reader's own question, announced ("you might wonder", "many people ask", "curious about")
_READER_QUESTION = re.compile(r"\b(?:wonder\w*|curious|(?:have|'ve)\s+(?:probably\s+|likely\s+)?heard|ask(?:s|ing)?\s+"
                              r"(?:yourself|whether|how|if|why|what))\b", re.I)
# What follows is pointed at: "with these coping strategies", "the following steps"
_CATAPHORIC = re.compile(r"\b(?:these|the\s+following|below)\s+(?:[\w-]+\s+){0,2}?(?:tips|steps|strategies|ways|"
                         r"signs|options|questions|factors|habits|ideas|things|stages|sections|answers|guidelines|"
                         r"suggestions|examples|points)\b|\bas\s+follows\b", re.I)
_ANAPHORIC_IF = re.compile(r"^(?:if|when)\s+(?:so|not|that|this|these|those)\b", re.I)
_PURPOSE = re.compile(r"^(?:to|in\s+order\s+to)\s+[a-z]+\b", re.I)
_FUTURE_WE = re.compile(r"\b(?:we'll|we\s+will|we're\s+going\s+to|let's|let\s+us)\b", re.I)

_BLOCKS = ("li", "td", "blockquote", "figcaption", "dd")

FEATURES: tuple[str, ...] = (
    "bias_words_log", "words_le3", "words_le6", "words_ge30", "chars_log",
    "end_period", "end_exclaim", "end_colon", "end_none", "end_quote_or_paren", "end_semicolon",
    "has_finite", "finite_share", "imperative", "starts_please_or_lets",
    "starts_subordinator", "subordinate_no_comma", "starts_connective", "starts_demonstrative",
    "starts_pronoun_3", "starts_you", "starts_we_our", "starts_i",
    "has_1s", "has_1p", "has_2", "count_2_log", "has_negation",
    "starts_digit", "has_digit", "has_year", "has_time", "has_month_day", "has_money", "has_percent",
    "has_phone", "has_email_or_url", "title_share", "caps_share", "starts_capital",
    "quote_open", "has_quotes", "has_reporting", "has_byline_word", "has_credential",
    "has_nav_word", "has_separators", "label_prefix", "glued_words",
    "self_reference", "future_we", "meta_verb", "reader_question", "cataphoric", "anaphoric_if", "starts_purpose",
    "teaser", "leans_on_previous",
    "promo_imperative", "promo_contact_us", "promo_we_service", "promo_our_subject",
    "block_li", "block_td", "block_blockquote", "block_figcaption", "block_dd",
    "first_sentence", "early_sentence", "next_list", "lead_colon",
    "labelled_block", "after_question", "names_person", "internal_links", "pointer_link", "partner_named",
)


def has_verb(text: str) -> bool:
    """Does the text hold a verb form (see `_is_verb`)?"""
    return any(_is_verb(w.lower().replace("\u2019", "'"), k) for k, w in enumerate(_WORD.findall(text)))


def sentence_features(text: str, ctx: SentenceContext = SentenceContext()) -> list[float]:
    """The named features of one sentence (normalized text), in the order of FEATURES."""
    stripped = text.strip()
    low = stripped.lower()
    tokens = _WORD.findall(stripped)
    words = [t.lower().replace("\u2019", "'") for t in tokens]
    n = len(words)
    alpha = [t for t in tokens if t[0].isalpha()]
    first = words[0] if words else ""
    second = words[1] if n > 1 else ""
    finite = sum(1 for k, w in enumerate(words) if _is_verb(w, k))
    end = stripped.rstrip()[-1:] if stripped else ""
    # "Get up early." but not "Sleep is ...", "Sleep loss raises ...", "Support groups help ...":
    # a noun that is also a verb is followed by its own verb within a few words
    imperative = ((first in _VERBS and not any(w in _INFLECTED for w in words[1:5]) and not second.endswith("s"))
                  or first in ("don't", "never") or (first == "please" and second in _VERBS))
    title = sum(1 for t in alpha[1:] if t[0].isupper()) / max(1, len(alpha) - 1)
    caps = sum(1 for t in alpha if t.isupper() and len(t) > 1) / max(1, len(alpha))
    has = lambda group: any(w in group for w in words)  # noqa: E731
    sub_first = first in _SUBORDINATOR
    count_2 = sum(1 for w in words if w in _PRON_2)
    f = [
        math.log1p(n), float(n <= 3), float(n <= 6), float(n >= 30), math.log1p(len(stripped)) / 3,
        float(end == "."), float(end == "!"), float(end == ":"), float(end.isalnum() or end == ""),
        float(end in "\"')]\u201d\u2019" and end != ""), float(end == ";"),
        float(finite > 0), finite / max(1, n), float(imperative),
        float(first in ("please", "let's") or low.startswith("let us")),
        float(sub_first), float(sub_first and "," not in stripped), float(first in _CONNECTIVE),
        float(first in _DEMONSTRATIVE), float(first in _PRON_3), float(first in _PRON_2),
        float(first in _PRON_1P or first == "our"), float(first in _PRON_1S),
        float(has(_PRON_1S)), float(has(_PRON_1P)), float(count_2 > 0), math.log1p(count_2), float(has(_NEGATION)),
        float(stripped[:1].isdigit()), float(any(c.isdigit() for c in stripped)), float(bool(_YEAR.search(stripped))),
        float(bool(_TIME.search(stripped))), float(bool(_MONTH_DAY.search(stripped))),
        float(bool(_MONEY.search(stripped))), float(bool(_PERCENT.search(stripped))),
        float(bool(PHONE.search(stripped))), float(bool(_EMAIL.search(stripped) or _URL.search(stripped))),
        title, caps, float(stripped[:1].isupper()),
        float(bool(_QUOTE_OPEN.match(stripped))), float(bool(_QUOTED.search(stripped))), float(has(_REPORTING)),
        # furniture words count in short lines only: "by" and "back" are common in prose
        float(n <= 14 and has(_BYLINE)), float(bool(_CREDENTIAL.search(stripped))),
        float(n <= 8 and has(_NAV)), float(bool(_SEPARATORS.search(stripped))), float(bool(_LABEL.match(stripped))),
        float(bool(_GLUE.search(stripped))),
        float(bool(_SELF_REFERENCE.search(stripped))), float(bool(_FUTURE_WE.search(stripped))),
        float(bool(_META_VERB.search(stripped))), float(bool(_READER_QUESTION.search(stripped))),
        float(bool(_CATAPHORIC.search(stripped))), float(bool(_ANAPHORIC_IF.match(stripped))),
        float(bool(_PURPOSE.match(stripped))),
        float(is_teaser(low)), float(leans_on_previous(low)),
        float(bool(_IMPERATIVE.search(stripped))), float(bool(_CONTACT_US.search(stripped))),
        float(bool(_WE_SERVICE.search(stripped))), float(bool(_OUR_SUBJECT.search(stripped))),
    ]
    f += [float(ctx.block == b) for b in _BLOCKS]
    f += [float(ctx.index == 0), float(ctx.index < 3), float(ctx.next_list and ctx.last_in_block), float(ctx.next_list and ctx.last_in_block and end == ":"),
          float(ctx.labelled), float(ctx.after_question), float(ctx.names_person),
          math.log1p(ctx.internal_links), float(ctx.pointer_link), float(ctx.partner_named)]
    return f
