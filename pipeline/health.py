"""Partner health: whether what a partner serves still looks like its articles.

Owns the decisions, as pure functions (values in, a verdict with reasons out; no network,
no database, no clock):

- `page_signals(html, article, status)`: what one fetched page and its extraction measure
  (text outside scripts, script weight, password fields, a known structure, the wording of
  its title and headings, the sentences and words extracted);
- `judge_page(signals, previous, baseline)`: is this new version of a page suspicious, and
  why: a JavaScript shell, a login wall or paywall, a maintenance notice, a soft-404, a
  revision that removes most of the article, a page far thinner than the partner's usual;
- `baseline_of(yields)`: what the partner's pages usually yield, from its recent good runs;
- `judge_source(...)`: the partner's state for the run (healthy, degraded, failed) and why.

A suspicious page is not stored as the article's new version: the orchestrator keeps its raw
body as a snapshot and the last good version current until the same version is seen again
on a later run or an editor accepts it (`Syndicate.accept_source`). The idea is
changedetection.io's: a page that answers with content but no text, or whose filter stops
matching, is an error to report, not a change to publish, and a change is believed once it
is seen again.

Every rule is general: signals of the page's own markup, English wording any site may use,
and comparisons with the same partner's earlier versions and its own baseline. Nothing is
keyed to a site, a page or a string of the sample sites. The thresholds (`RULES`) were set
by reasoning about the failure each catches, then checked on the four demo partners and the
development pages: none of their real articles is flagged (tests/test_health.py).

Must not: fetch, store, read a clock, or decide what happens to a held page (the
orchestrator and the store do).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from statistics import fmean
from typing import Iterable, Sequence

from lxml import etree

from .types import ExtractedArticle, HealthReason, HealthState, Kind, Yields

# --- what a page measures ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageSignals:
    """One page as health sees it. Markup figures come from the raw HTML, the rest from its
    extraction. `texts`: the extracted sentences, normalised for comparison."""

    status: int = 200
    html_chars: int = 0
    text_words: int = 0  # visible text outside script, style, noscript and template
    text_chars: int = 0
    script_chars: int = 0  # inline script code (JSON-LD excluded)
    scripts: int = 0  # <script> elements, inline or not (JSON-LD excluded)
    noscript_asks_js: bool = False  # a <noscript> asks for JavaScript
    password_fields: int = 0
    structured: bool = False  # <article>, <main>, role=main, articleBody or Article markup
    headline: str = ""  # the <title> and the h1/h2 headings, for wording
    short_text: str = ""  # the visible text when it is short (wording of a notice)
    sentences: int = 0
    claims: int = 0
    words: int = 0
    texts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Version:
    """The stored current version of an article, as `judge_page` compares a new one with it."""

    sentences: int
    words: int
    texts: frozenset[str]
    content_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Baseline:
    """What a partner's article pages usually yield (means per extracted page, and shares
    of pages), over `runs` recent good runs and `pages` pages. `structured_share` is None
    when unknown (a baseline made from stored articles rather than runs)."""

    runs: int
    pages: int
    extracted_share: float
    structured_share: float | None
    sentences: float
    claims: float
    words: float


@dataclass(frozen=True, slots=True)
class PageVerdict:
    reasons: tuple[HealthReason, ...] = ()

    @property
    def suspicious(self) -> bool:
        return bool(self.reasons)


@dataclass(frozen=True, slots=True)
class SourceVerdict:
    state: str  # HealthState value
    reasons: tuple[HealthReason, ...] = ()


@dataclass(frozen=True, slots=True)
class Rules:
    """The thresholds, each with the failure it is for.

    A notice (maintenance, not found, login) is a page much shorter than the article it
    replaces: `notice_share` of the previous version's (or the baseline's) words, or under
    `notice_words` when there is nothing to compare with. A JavaScript shell has scripts and almost no
    text outside them (`shell_words`; `noscript_words` when a <noscript> asks for
    JavaScript): the ratio of script code to text was tried and dropped, since many real
    article pages of the development set carry more inline code than text. A revision "removes most of the article" when it keeps under
    `survive_share` of the previous version's sentences and has under `shrink_share` as
    many. A new page is "thin" under `thin_share` of the baseline's words with at most
    `thin_sentences` sentences. A whole run drops sharply when its pages yield under
    `drop_share` of the baseline, or the share of pages extracted (or structured) falls by
    `share_fall`. Baselines need `baseline_pages` pages; run-level drops need
    `min_run_pages` pages in the run (one short post is not a trend)."""

    notice_share: float = 0.3
    notice_words: int = 150
    paywall_share: float = 0.6
    shell_words: int = 40
    noscript_words: int = 100
    shell_share: float = 0.2
    survive_share: float = 0.4
    shrink_share: float = 0.5
    min_previous_sentences: int = 5
    thin_share: float = 0.15
    thin_sentences: int = 3
    drop_share: float = 0.25
    share_fall: float = 0.5
    baseline_pages: int = 3
    baseline_runs: int = 5
    min_run_pages: int = 2


RULES = Rules()

# Wording any site may use for these pages (English). Matched on the title and headings,
# and on the visible text of a short page only: an article that mentions maintenance of a
# building, or a "page not found" error in a how-to, is long and keeps its text.
_MAINTENANCE = re.compile(
    r"\b(?:under(?:going)?\s+(?:scheduled\s+|planned\s+|routine\s+)?maintenance|down\s+for\s+maintenance|"
    r"maintenance\s+mode|scheduled\s+maintenance|temporarily\s+(?:unavailable|offline|down|closed)|"
    r"we(?:'|\u2019| wi)ll\s+be\s+back\s+(?:soon|shortly)|be\s+right\s+back|back\s+online\s+(?:soon|shortly)|"
    r"site\s+is\s+(?:currently\s+)?(?:down|offline|unavailable)|under\s+construction)\b", re.I)
_NOT_FOUND = re.compile(
    r"(?:\b404\b|\bpage\s+(?:was\s+)?not\s+found\b|\bnot\s+found\b|\bno\s+longer\s+(?:available|exists)\b|"
    r"\b(?:does\s+not|doesn(?:'|\u2019)t)\s+exist\b|\b(?:could\s+not|couldn(?:'|\u2019)t|can(?:'|\u2019)t|cannot)\s+"
    r"(?:be\s+)?f(?:ou|i)nd\b|\bnothing\s+(?:was\s+)?found\b|\bpage\s+(?:is\s+)?missing\b)", re.I)
_LOGIN = re.compile(
    r"\b(?:(?:sign|log)\s?in\b|(?:members?|subscribers?)\s+(?:only|login|area)\b|forgot\s+(?:your\s+)?password|"
    r"create\s+(?:an\s+|a\s+free\s+)?account)", re.I)
_PAYWALL = re.compile(
    r"\b(?:subscribe\s+(?:now\s+)?to\s+(?:continue|keep)\s+reading|to\s+continue\s+reading|"
    r"already\s+(?:a\s+subscriber|have\s+an\s+account)|subscribers?\s+only|members?\s+only|"
    r"(?:this|the)\s+(?:article|content|story|post)\s+is\s+(?:only\s+)?(?:available|reserved)\s+(?:to|for)\s+"
    r"(?:members|subscribers)|unlock\s+(?:this|the\s+full)\s+(?:article|story)|premium\s+content)\b", re.I)
_ASKS_JS = re.compile(r"\b(?:enable|turn\s+on|requires?|need)\b[^.]{0,40}\bjavascript\b|\bjavascript\s+(?:is\s+)?"
                      r"(?:required|disabled|needed)\b", re.I)
_ARTICLE_TYPES = re.compile(r'"@type"\s*:\s*(?:\[[^\]]*)?"(?:\w*Article|BlogPosting|Report|Posting)"')
_SPACE = re.compile(r"\s+")
SHORT_TEXT_WORDS = 300  # a page this short is read whole for a notice's wording


def normalise(text: str) -> str:
    """A sentence as versions are compared: case and spacing ignored."""
    return " ".join(text.split()).casefold()


def page_signals(html: bytes | str, article: ExtractedArticle, status: int = 200) -> PageSignals:
    """Measure one page: its markup (`html`, the raw body) and what extraction made of it."""
    heading, claim = Kind.HEADING.value, Kind.CLAIM.value
    kinds = [str(s.kind) for s in article.sentences]
    sentences = [s for s, k in zip(article.sentences, kinds) if k != heading]
    texts = tuple(normalise(s.text) for s in sentences)
    words = len(article.text.split()) if article.text else sum(len(t.split()) for t in texts)
    base = dict(status=status, html_chars=len(html), sentences=len(sentences),
                claims=kinds.count(claim), words=words, texts=texts)
    try:
        doc = etree.HTML(html if isinstance(html, bytes) else html.encode("utf-8"))
    except (etree.LxmlError, ValueError, TypeError):
        doc = None
    if doc is None:  # empty or not markup at all
        return PageSignals(**base)
    scripts = [el for el in doc.iter("script")
               if "json" not in (el.get("type") or "").lower()]  # JSON-LD and data blocks are not code
    json_ld = " ".join(el.text or "" for el in doc.iter("script") if "ld+json" in (el.get("type") or "").lower())
    noscript = " ".join(_text(el) for el in doc.iter("noscript"))
    title = " ".join(_text(el) for el in doc.iter("title"))
    headings = " ".join(_text(el) for el in doc.iter("h1", "h2"))
    structured = bool(
        doc.find(".//article") is not None or doc.find(".//main") is not None
        or doc.xpath("//*[@role='main' or @itemprop='articleBody' or contains(@itemtype, 'Article') "
                     "or contains(@itemtype, 'BlogPosting')]")
        or doc.xpath("//meta[@property='og:type' and @content='article']")
        or _ARTICLE_TYPES.search(json_ld))
    visible = _visible_text(doc)
    visible_words = len(visible.split())
    return PageSignals(
        **base,
        text_words=visible_words, text_chars=len(visible),
        script_chars=sum(len(el.text or "") for el in scripts), scripts=len(scripts),
        noscript_asks_js=bool(_ASKS_JS.search(noscript)),
        password_fields=len(doc.xpath("//input[translate(@type, 'PASWORD', 'pasword')='password']")),
        structured=structured,
        headline=_SPACE.sub(" ", f"{title} {headings}").strip()[:1000],
        short_text=visible[:5000] if visible_words <= SHORT_TEXT_WORDS else "",
    )


_VISIBLE = etree.XPath("//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript "
                       "or ancestor::template or ancestor::svg)]")
_ALL_VISIBLE = etree.XPath("//text()[not(ancestor::script or ancestor::style or ancestor::noscript "
                           "or ancestor::template or ancestor::svg or ancestor::head)]")


def _text(el) -> str:
    return "".join(el.itertext())


def _visible_text(doc) -> str:
    """The text a reader sees without scripts: outside script, style, noscript, template,
    svg (and head); of the body when there is one."""
    parts = _VISIBLE(doc) if doc.find("body") is not None else _ALL_VISIBLE(doc)
    return " ".join(" ".join(parts).split())


# --- one page ---------------------------------------------------------------------------------

def judge_page(page: PageSignals, previous: Version | None = None, baseline: Baseline | None = None,
               rules: Rules = RULES, url: str | None = None) -> PageVerdict:
    """Whether a new version of a page is suspicious, and why. `previous`: the article's
    stored current version (None for a new article); `baseline`: the partner's usual."""
    usual = previous.words if previous is not None and previous.words else (
        baseline.words if baseline is not None and baseline.pages >= rules.baseline_pages else None)

    def shorter(share: float) -> bool:
        """Much shorter than the version it replaces (or the partner's usual page)."""
        return page.words < share * usual if usual else page.words < rules.notice_words

    reasons: list[HealthReason] = []

    def add(kind: str, message: str) -> None:
        reasons.append(HealthReason(kind, message, url))

    notice_text = f"{page.headline} {page.short_text}"
    if page.scripts and shorter(rules.shell_share) and (
            page.text_words < rules.shell_words
            or (page.noscript_asks_js and page.text_words < rules.noscript_words)):
        add("js-shell", f"the page looks like a JavaScript shell: {page.text_words} word(s) of text outside "
                        f"{page.scripts} script(s) ({page.script_chars:,} characters of inline code)"
                        + ("; it asks the reader to enable JavaScript" if page.noscript_asks_js else ""))
    login_heading = bool(_LOGIN.search(page.headline))
    # Many article pages carry a login box (a password field) in their header: without an
    # earlier version to compare with, a password field counts only beside a login heading.
    if shorter(rules.notice_share) and (
            (page.password_fields and (usual or login_heading)) or (login_heading and usual)):
        add("login-wall", "the page asks the reader to log in"
            + (" (a password field)" if page.password_fields else " (its heading)")
            + f" and yields {page.words} word(s)" + _compared(usual))
    if _PAYWALL.search(notice_text) and shorter(rules.paywall_share):
        add("paywall", f"the page is behind a paywall (subscription wording) and yields {page.words} word(s)"
            + _compared(usual))
    if _MAINTENANCE.search(notice_text) and shorter(rules.notice_share):
        add("maintenance", f"the page is a maintenance notice ({_quote(_MAINTENANCE, notice_text)})"
            + f", {page.words} word(s)" + _compared(usual))
    if page.status == 200 and _NOT_FOUND.search(page.headline or page.short_text) and shorter(rules.notice_share):
        add("soft-404", f"the page says it was not found ({_quote(_NOT_FOUND, page.headline or page.short_text)}) "
                        f"but answered HTTP {page.status}, {page.words} word(s)" + _compared(usual))
    if previous is not None and previous.sentences >= rules.min_previous_sentences:
        kept = len(previous.texts & set(page.texts))
        if kept < rules.survive_share * len(previous.texts) and page.sentences < rules.shrink_share * previous.sentences:
            add("revision-drop", f"the new version removes {len(previous.texts) - kept} of the article's "
                                 f"{len(previous.texts)} sentences ({page.sentences} sentence(s) left)")
    elif previous is None and baseline is not None and baseline.pages >= rules.baseline_pages and \
            page.words < rules.thin_share * baseline.words and page.sentences <= rules.thin_sentences:
        add("thin-page", f"the page yields {page.sentences} sentence(s) and {page.words} word(s) where this "
                         f"partner's articles yield {baseline.sentences:.0f} sentences and {baseline.words:.0f} "
                         f"words on average")
    return PageVerdict(tuple(reasons))


def _compared(usual: float | None) -> str:
    return f" where the last good version had {usual:.0f}" if usual else ""


def _quote(pattern: re.Pattern, text: str) -> str:
    m = pattern.search(text)
    return f"\u201c{m.group(0)}\u201d" if m else ""


# --- the partner --------------------------------------------------------------------------------

def yields_of(pages: Iterable[PageSignals]) -> Yields:
    """What these pages (a run's extracted pages of one partner) yielded."""
    pages = list(pages)
    return Yields(pages=len(pages), extracted=sum(p.sentences > 0 for p in pages),
                  structured=sum(p.structured for p in pages), sentences=sum(p.sentences for p in pages),
                  claims=sum(p.claims for p in pages), words=sum(p.words for p in pages))


def baseline_of(runs: Sequence[Yields], rules: Rules = RULES) -> Baseline | None:
    """The partner's usual, from the yields of its recent good runs (newest first; runs
    that extracted no page are passed over). None until `rules.baseline_pages` pages."""
    used = [y for y in runs if y.pages][:rules.baseline_runs]
    pages = sum(y.pages for y in used)
    if pages < rules.baseline_pages:
        return None
    extracted = sum(y.extracted for y in used) or 1
    return Baseline(runs=len(used), pages=pages, extracted_share=sum(y.extracted for y in used) / pages,
                    structured_share=sum(y.structured for y in used) / pages,
                    sentences=sum(y.sentences for y in used) / extracted,
                    claims=sum(y.claims for y in used) / extracted, words=sum(y.words for y in used) / extracted)


def baseline_of_articles(articles: Sequence[tuple[int, int, int]], rules: Rules = RULES) -> Baseline | None:
    """A baseline from the partner's stored current versions ((sentences, claims, words)
    each), for a partner with no recorded good run yet (a database older than health)."""
    if len(articles) < rules.baseline_pages:
        return None
    extracted = [a for a in articles if a[0] > 0] or list(articles)
    return Baseline(runs=0, pages=len(articles), extracted_share=sum(a[0] > 0 for a in articles) / len(articles),
                    structured_share=None, sentences=fmean(a[0] for a in extracted),
                    claims=fmean(a[1] for a in extracted), words=fmean(a[2] for a in extracted))


def run_drops(run: Yields, baseline: Baseline | None, rules: Rules = RULES) -> tuple[HealthReason, ...]:
    """Sharp drops of a whole run against the partner's baseline: what its pages yield, the
    share of pages extracted at all, the share with a known structure."""
    if baseline is None or run.pages < rules.min_run_pages:
        return ()
    out = []
    share = run.extracted / run.pages
    if share <= baseline.extracted_share - rules.share_fall:
        out.append(HealthReason("extracted-drop", f"text was extracted from {run.extracted} of {run.pages} pages "
                                                  f"this run, against {baseline.extracted_share:.0%} usually"))
    if baseline.structured_share is not None and \
            run.structured / run.pages <= baseline.structured_share - rules.share_fall:
        out.append(HealthReason("structure-drop", f"{run.structured} of {run.pages} pages have a known article "
                                                  f"structure this run, against {baseline.structured_share:.0%} "
                                                  f"usually: the layout may have changed"))
    if run.extracted and run.sentences / run.extracted < rules.drop_share * baseline.sentences:
        out.append(HealthReason("yield-drop", f"pages yield {run.sentences / run.extracted:.1f} sentences on "
                                              f"average this run, against {baseline.sentences:.1f} usually"))
    return tuple(out)


def judge_source(*, errors: int, pages: Sequence[HealthReason], run: Yields | None,
                 baseline: Baseline | None, rules: Rules = RULES) -> SourceVerdict:
    """The partner's state for a run: failed when it had errors, degraded when a page looked
    wrong (`pages`: the reasons of its suspicious pages) or the run's yields dropped
    sharply, healthy otherwise. Reasons are given for a degraded state (and kept beside a
    failure)."""
    reasons = tuple(pages) + (run_drops(run, baseline, rules) if run is not None else ())
    if errors:
        return SourceVerdict(HealthState.FAILED.value, reasons)
    return SourceVerdict((HealthState.DEGRADED if reasons else HealthState.HEALTHY).value, reasons)
