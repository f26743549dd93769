"""extract_article: one page (or feed fragment) in, one ExtractedArticle out.

Owns: the order of the extraction steps and the mapping of blocks to Sentence values.
Must not: fetch, store, or read the clock.

FAQ answers stay in the sentences too. The gold annotation counts archway's FAQ answers
among its claim sentences (and two of them among its promotional ones), so the claim
stage has to see them; `faq` keeps the pairs for the digest's FAQ view. A pair that is
both marked up and in JSON-LD is stored once (markup wins, it is what the reader sees).
"""
from __future__ import annotations

import re
from dataclasses import replace
from urllib.parse import urljoin, urlsplit

from pipeline.types import (ArticleMeta, Citation, ExtractedArticle, FaqPair, FeedEntry, Footnote,
                            Kind, Sentence, Source)

from pipeline.errors import ParseError

from ._chrome import drop_all, find_chrome, find_link_boxes, find_link_lists, find_teasers
from ._html import TooDeep, decode_html, doc_order, parse_html, read_page, strip_code
from ._input import binary_reason
from ._label_features import SentenceContext
from ._labels import Candidate, LinkFact, Partner, SentenceLabeller, is_breadcrumb, names_someone
from ._notes import CALL_TAIL, NOTICE_EDGE, is_page_note, is_page_notice, is_reader_call
from ._second import SECOND_GAIN, SECOND_MIN, SHORT_TEXT, second_opinion
from ._meta import PageFacts, breadcrumb_names, build_meta, credited_people, parse_date, site_name
from ._root import choose_root, paragraph_weights, subtree_weights
from ._structure import (GLUED_MARKER, Walker, faq_from_jsonld, faq_from_markup, faq_key, find_footnotes,
                         select)
from ._text import collapse_space, normalize_display, normalize_text, split_spans

_ARTICLE_PATH = re.compile(r"/(?:blog|news|articles?|posts?|stories|insights|resources|\d{4}/\d{2})/", re.I)


def _host(url: str | None) -> str:
    if not url:
        return ""
    host = urlsplit(url).hostname or ""
    return host[4:] if host.startswith("www.") else host


def extract_article(html: bytes | str, url: str, *, source: Source | None = None,
                    feed_entry: FeedEntry | None = None, labeller: SentenceLabeller | None = None) -> ExtractedArticle:
    """Extract the article of one page: metadata, sentences in reading order with their
    labels, sections and citations, FAQ pairs and footnotes. Works on a whole page or on a
    feed entry's content fragment. `labeller`: how sentences are labelled (default: the
    shipped model on general features, no sentence encoder). Pure: no network, no clock."""
    if isinstance(html, bytes):
        reason = binary_reason(html)
        if reason:
            raise ParseError(f"not an HTML page: {reason}", url, kind="not-html")
    try:
        labeller = labeller or _DEFAULT_LABELLER
        article, names = _extract(html, url, source, feed_entry, labeller)
        if (len(article.text) < SHORT_TEXT and feed_entry is None and not (source and source.selectors)
                and not article.faq and not article.footnotes):
            # little found: ask trafilatura. Not for a feed's fragment (it is the article),
            # nor where the registry's selectors say where the article is, nor on a page
            # whose FAQ or footnotes we found (its structure was read, the text is short).
            article = _second_look(article, names, html, url, source, feed_entry, labeller)
        return article
    except (TooDeep, RecursionError) as e:
        # either extracted or refused, never an empty article that looks fine
        raise ParseError(f"not readable as a page: {e if isinstance(e, TooDeep) else 'nested too deeply'}",
                         url, kind="too-deep") from None


_DEFAULT_LABELLER = SentenceLabeller()


def _second_look(article: ExtractedArticle, names: list[str], html: bytes | str, url: str,
                 source: Source | None, feed_entry: FeedEntry | None, labeller: SentenceLabeller) -> ExtractedArticle:
    """Our short extraction, or trafilatura's view of the page run through our own steps
    (sentences, labels, links); our metadata, FAQ and footnotes stay, and the site's names
    (for self-promotion) are the page's."""
    alt_html = second_opinion(decode_html(html), url)
    if not alt_html:
        return article
    alt, _ = _extract(alt_html, url, source, feed_entry, labeller, names=names)
    if len(alt.text) <= SECOND_GAIN * len(article.text) + SECOND_MIN:
        return article  # not much more than ours: ours keeps its structure
    return replace(alt, meta=article.meta, faq=article.faq or alt.faq, footnotes=article.footnotes or alt.footnotes)


def _extract(html: bytes | str, url: str, source: Source | None, feed_entry: FeedEntry | None,
             labeller: SentenceLabeller, names: list[str] | None = None) -> tuple[ExtractedArticle, list[str]]:
    """The article and the names the page's site goes by (`names`: given, for a second look)."""
    text = decode_html(html)
    doc = parse_html(text)
    if doc is None:  # empty or unparsable: metadata from the feed entry, if any
        return ExtractedArticle(url=url, meta=build_meta(PageFacts(), url, feed_entry), text="", sentences=()), []
    page = read_page(doc)
    strip_code(doc)
    meta = build_meta(page.facts, url, feed_entry)
    body = doc.find("body")
    if body is None:
        body = doc

    selectors = dict(source.selectors) if source else {}
    meta = _meta_from_selectors(meta, doc, selectors)
    exclude = set()
    for key in ("exclude", "remove", "drop"):
        if selectors.get(key):
            exclude.update(select(doc, selectors[key]))

    forced_root = None
    if selectors.get("content"):
        hits = select(doc, selectors["content"])
        if hits:
            forced_root = hits[0]

    direct = paragraph_weights(body)
    if forced_root is not None:
        # the registry knows where the article is: prune only inside it
        drop_all([el for el in exclude if el.getparent() is not None])
        chrome = find_chrome(forced_root, subtree_weights(forced_root, direct), protect_share=0.5)
        root = forced_root
    else:
        chrome = find_chrome(body, subtree_weights(body, direct), extra_drop=exclude)
        root = choose_root(body, direct, set(chrome))
    root_order = doc_order(root)  # before removal, comparable with the h1s' order
    drop_all(chrome)

    base_url = url
    base = doc.find(".//base[@href]")
    if base is not None and base.get("href", "").strip():
        base_url = urljoin(url, base.get("href").strip())
    footnotes = find_footnotes(root, doc, base_url)  # before link lists go: a reference list is one
    drop_all(find_teasers(root))
    drop_all(find_link_boxes(root))
    drop_all(find_link_lists(root))
    markup_faq = faq_from_markup(root)
    questions = {f.question_el for f in markup_faq if f.question_el is not None}
    walker = Walker(skip=footnotes.skip, markers=footnotes.markers, questions=questions, base_url=base_url)
    blocks = walker.run(root)

    # The title: the page's h1 when the content root starts below it.
    has_h1 = any(b.tag == "h1" for b in blocks)
    title_text = None
    if not has_h1:
        # positions counted again: strip_code removed elements since read_page counted them
        before = [(doc_order(el), t) for _, el, t in page.h1s if el.getroottree().getroot() is doc]
        before = [(i, t) for i, t in before if i < root_order]
        if before:
            title_text = before[-1][1]

    if names is not None:
        pass
    elif source:
        names = []
        names.append(source.name)
        names.extend(source.aliases)
    else:
        sn = site_name(page.facts)
        names = [sn] if sn else []
    partner = Partner.from_names(names)
    page_host = _host(url)
    own_hosts = {page_host, _host(source.homepage) if source else ""} - {""}
    page_path = urlsplit(url).path if url else ""

    paragraphs: list[str] = []
    # Labels are decided together at the end: the model reads each sentence's place on the
    # page (what follows it, what came before) and may encode the open ones in one batch.
    candidates: list[Candidate | None] = []
    pending: list[dict] = []  # the Sentence fields, kind still open where a candidate waits
    people = credited_people(page.facts)
    if meta.author and meta.author not in people and len(meta.author.split()) >= 2:
        people += (meta.author,)
    trail = breadcrumb_names(page.facts)

    def add(text: str, display: str, kind: Kind | None, *, section, label=None, block="p", citations=(),
            candidate: Candidate | None = None):
        pending.append(dict(position=len(pending), text=text, display=display, kind=kind, section=section,
                            label=label, block=block, citations=tuple(citations)))
        candidates.append(candidate)

    # The title stays a heading sentence (the sections hang under it) but not a line of the
    # text: it has its own field (meta.title), and a reader of `text` gets the body only.
    titles = {normalize_text(t) for t in (title_text, meta.title, page.facts.h1) if t}
    if title_text:
        add(normalize_text(title_text), collapse_space(title_text), Kind.HEADING, section=None, block="h1")

    notes = footnotes.notes
    seen_paragraphs: set = set()
    kept_blocks = prose_blocks(blocks)
    index = 0  # place among the article's sentences (headings and questions not counted)
    after_question = False
    for block_no, block in enumerate(kept_blocks):
        raw = block.text
        if block.hint is None:
            key = collapse_space(raw)
            if len(key) >= 20 and key in seen_paragraphs:
                continue  # the same paragraph twice (a mobile and a desktop copy, a pull quote)
            seen_paragraphs.add(key)
        markers = list(block.markers)
        if notes:
            # typed footnote digits glued to the sentence end: "...2022.1"
            def unglue(m):
                if m.group(1) in notes:
                    markers.append((m.start(1), m.group(1)))
                    return " " * len(m.group(1))  # same length: link offsets stay valid
                return m.group(0)
            raw = GLUED_MARKER.sub(unglue, raw)


        links = []
        for s, e, href, anchor in block.links:
            absolute = urljoin(base_url, href) if base_url else href
            if not absolute.startswith(("http://", "https://")):
                continue
            parts = urlsplit(absolute)
            if _host(absolute) == page_host and parts.path == page_path and parts.query:
                continue  # share buttons pointing at the same page
            internal = _host(absolute) in own_hosts
            links.append((s, e, absolute, normalize_text(anchor), internal,
                          bool(_ARTICLE_PATH.search(parts.path))))

        if block.hint in ("heading", "question"):
            spans = [(0, len(raw))]
        else:
            spans = []
            line_start = 0
            for line in raw.split("\n"):
                for s, e in split_spans(line):
                    spans.append((line_start + s, line_start + e))
                line_start += len(line) + 1

        block_texts = []
        # a whole block that is the page's breadcrumb trail (links whose separators CSS
        # draws: "Home Blog Alcohol and Sleep") leaves every sentence it splits into out
        trail_block = bool(trail) and is_breadcrumb(normalize_text(raw), trail)
        for idx, (s, e) in enumerate(spans):
            display = collapse_space(raw[s:e].replace("\u200b", ""))
            if not display:
                continue
            text_norm = normalize_display(display)
            next_start = spans[idx + 1][0] if idx + 1 < len(spans) else len(raw) + 1
            cites = []
            for off, marker in markers:
                if s < off <= max(e, next_start - 1) or (idx == len(spans) - 1 and off > s):
                    note = notes.get(marker)
                    if note:
                        cites.append(Citation(text=note[0], url=note[1], footnote=marker))
            facts = []
            for ls, le, absolute, anchor, internal, article_like in links:
                if ls < e and le > s:
                    cites.append(Citation(text=anchor, url=absolute, footnote=None))
                    facts.append(LinkFact(anchor, internal, article_like))
            # the bold lead-in sentence of a paragraph that goes on after it
            is_lead = (idx == 0 and 0 < block.lead_end and e <= block.lead_end + 1
                       and len(spans) > 1 and bool(raw[block.lead_end:].strip()))
            last = idx == len(spans) - 1
            ctx = SentenceContext(
                block=block.tag, index=index, first_in_block=idx == 0, last_in_block=last,
                next_list=last and block.tag not in ("li", "dd") and _next_is_list(kept_blocks, block_no),
                labelled=idx == 0 and block.label is not None, after_question=after_question,
                names_person=bool(people) and names_someone(text_norm, people),
                breadcrumb=trail_block or (bool(trail) and is_breadcrumb(text_norm, trail)))
            cand = Candidate(text_norm, ctx, is_heading=block.hint == "heading",
                             is_question=block.hint == "question", is_lead=is_lead, links=tuple(facts))
            add(text_norm, display, None, section=block.section, label=block.label,
                block=block.tag, citations=_unique(cites), candidate=cand)
            block_texts.append(display)
            after_question = block.hint == "question" or text_norm.rstrip("\"')]").endswith("?")
            if block.hint not in ("heading", "question") and not after_question:
                index += 1
        # `text` keeps the partner's own characters (quotes, dashes) as a reader saw them;
        # the sentences carry the normalized form for matching.
        joined = " ".join(block_texts)
        # an h1 before any paragraph is the page title, whatever the <title> says
        is_title = block.tag == "h1" and (not paragraphs or normalize_display(joined) in titles)
        if block_texts and block.tag not in ("figcaption", "caption") and not is_title and not trail_block:
            paragraphs.append(joined)

    open_ = [i for i, c in enumerate(candidates) if c is not None]
    if open_:
        kinds = labeller.label([candidates[i] for i in open_], partner)
        for i, kind in zip(open_, kinds):
            pending[i]["kind"] = kind
    sentences = [Sentence(**fields) for fields in pending]

    faq = _merge_faq(markup_faq, faq_from_jsonld(page.facts.jsonld))
    fns = tuple(Footnote(marker=m, text=notes[m][0], url=notes[m][1]) for m in footnotes.order)
    return ExtractedArticle(url=url, meta=meta, text="\n\n".join(paragraphs), sentences=tuple(sentences),
                            faq=faq, footnotes=fns), names


def _next_is_list(blocks: list, at: int) -> bool:
    """Is the block after `at` a list item (so the sentence ending block `at` leads a list)?"""
    return at + 1 < len(blocks) and blocks[at + 1].tag in ("li", "dd", "dt")


def _link_only(block) -> bool:
    """A button, a "read more", one entry of a list of links: not prose."""
    if block.hint is not None:
        return False
    linked = sum(e - s for s, e, _, _ in block.links)
    visible = len(block.text.strip())
    if not visible:
        return False
    if linked >= 0.9 * visible and len(collapse_space(block.text)) < 160:
        return True
    if linked >= 0.5 * visible and len(collapse_space(block.text)) < 100:
        return True  # "Read more: <a>Another story</a>"
    # a line of several links with a label ("Tags: a, b, c", "Read also: x | y | z")
    return len(block.links) >= 3 and linked >= 0.6 * visible


def _page_note(block) -> bool:
    """A credit, copyright, ad label or bare date line between the paragraphs (not a list
    item or a table cell, where dates and sources are data)."""
    if block.hint is not None or block.tag in ("li", "td", "th", "dd", "dt", "pre"):
        return False
    return is_page_note(collapse_space(block.text))


def _link_led(block) -> bool:
    """A short block that opens with a link: one entry of a list of other posts
    ("<a>Kicker</a> Headline of another story")."""
    if block.hint is not None or not block.links:
        return False
    text = block.text
    lead = len(text) - len(text.lstrip())
    start, end = block.links[0][0], block.links[0][1]
    return start <= lead and len(collapse_space(text)) < 200 and (end - start) >= 0.2 * len(text.strip())


def _drop_link_led_runs(blocks: list, min_run: int = 3) -> list:
    """Three or more link-led blocks in a row are a teaser list; the label or heading
    right before such a run titled it and goes with it."""
    out: list = []
    i = 0
    while i < len(blocks):
        j = i
        while j < len(blocks) and _link_led(blocks[j]):
            j += 1
        if j - i >= min_run:
            if out and _is_label(out[-1]):
                out.pop()
            i = j
            continue
        out.append(blocks[i])
        i += 1
    return out


def _rank(block) -> int:
    return int(block.tag[1]) if block.hint == "heading" and block.tag[:1] == "h" and block.tag[1:].isdigit() else 7


def prose_blocks(blocks: list) -> list:
    """The blocks that carry the article: link-only blocks out, then every heading that
    introduces nothing (a "Read also" or "Related posts" heading whose list of links went,
    a heading left at the end of the text)."""
    kept = [b for b in blocks if not _link_only(b) and not _page_note(b)]
    kept = _drop_link_led_runs(kept)
    out = []
    for i, block in enumerate(kept):
        if block.hint == "heading":
            rank = _rank(block)
            has_body = False
            for later in kept[i + 1:]:
                if later.hint == "heading":
                    if _rank(later) <= rank:
                        break
                    continue
                has_body = True
                break
            if not has_body:
                continue
        out.append(block)
    # Short label lines left at the end ("Most read", "More articles", "Write a comment"):
    # the boxes they titled were lists of links, now gone; nothing follows them.
    if any(not _is_label(b) for b in out):
        while _is_label(out[-1]):
            out.pop()
        # and at the start: a date, a reading time, a kicker before the first sentence
        while out[0].hint is None and _is_label(out[0]):
            out.pop(0)
    # After the last paragraph of prose, a short tail of fragments (credits, "More on this:",
    # a contact line, a category) is the page's, not the article's; sentences and list
    # items in it stay.
    last = max((i for i, b in enumerate(out) if _is_prose(b)), default=None)
    if last is not None and last < len(out) - 1:
        tail = out[last + 1:]
        if sum(len(b.text.strip()) for b in tail) < _TAIL_MAX and not any(b.hint == "question" for b in tail):
            out = out[:last + 1] + [b for b in tail if b.tag in ("li", "td", "th", "dd", "pre") or _sentence_like(b)]
    # A call to the reader among the last blocks ("Subscribe to our newsletter", "Log in to
    # comment"): the page's, not the article's.
    start = max(1, len(out) - CALL_TAIL)
    out = out[:start] + [b for b in out[start:] if b.hint == "question" or not is_reader_call(collapse_space(b.text))]
    # A cookie or affiliate notice at either end of the article
    if len(out) > 1:
        n = len(out)
        out = [b for i, b in enumerate(out) if not ((i < NOTICE_EDGE or i >= n - NOTICE_EDGE) and b.hint != "question"
                                                    and is_page_notice(collapse_space(b.text)))]
    return out


_TAIL_MAX = 800


def _sentence_like(block) -> bool:
    text = collapse_space(block.text)
    return block.hint is None and len(text.split()) >= 5 and text.endswith((".", "!", "?", "\u2026", ".\"", ".\u201c", ".\u201d"))


def _is_prose(block) -> bool:
    text = collapse_space(block.text)
    return block.hint is None and len(text) >= 100 and text.endswith(_SENTENCE_END)


_SENTENCE_END = ('.', '!', '?', '\u2026', '"', "'", '\u201c', '\u201d', '\u00bb', ')', ':')


def _is_label(block) -> bool:
    if block.hint == "heading":
        return True
    if block.tag in ("li", "td", "th", "dd", "dt", "pre") or block.hint == "question":
        return False
    text = collapse_space(block.text)
    return len(text) <= 60 and len(text.split()) <= 6 and not text.endswith(_SENTENCE_END)


def _meta_from_selectors(meta: ArticleMeta, doc, selectors: dict) -> ArticleMeta:
    """Per-source overrides: ("title" | "author" | "published" | "updated", css)."""
    changes = {}
    for key in ("title", "author", "published", "updated"):
        if not selectors.get(key):
            continue
        hits = select(doc, selectors[key])
        if not hits:
            continue
        el = hits[0]
        value = el.get("datetime") or el.get("content") or collapse_space(el.text_content())
        if key in ("published", "updated"):
            value = parse_date(value)
        if value:
            changes[key] = value
    return replace(meta, **changes) if changes else meta


def _unique(cites: list[Citation]) -> list[Citation]:
    seen = set()
    out = []
    for c in cites:
        key = (c.text, c.url, c.footnote)
        if key not in seen:
            seen.add(key)
            out.append(c)
    return out


def _merge_faq(markup, jsonld) -> tuple[FaqPair, ...]:
    pairs: list[FaqPair] = []
    seen: set[str] = set()
    for f in list(markup) + list(jsonld):
        key = faq_key(f.question)
        if not key or key in seen:
            continue
        seen.add(key)
        pairs.append(FaqPair(question=f.question, answer=f.answer, position=len(pairs), origin=f.origin))
    return tuple(pairs)


def article_to_dict(article: ExtractedArticle) -> dict:
    """JSON-ready form of an ExtractedArticle (dates as ISO 8601 strings)."""
    m = article.meta

    def iso(d):
        return d.isoformat() if d else None

    return {
        "url": article.url,
        "meta": {"title": m.title, "author": m.author, "published": iso(m.published),
                 "updated": iso(m.updated), "canonical_url": m.canonical_url,
                 "language": m.language, "description": m.description},
        "text": article.text,
        "sentences": [
            {"position": s.position, "text": s.text, "display": s.display, "kind": str(s.kind),
             "section": s.section, "label": s.label, "block": s.block,
             "citations": [{"text": c.text, "url": c.url, "footnote": c.footnote} for c in s.citations]}
            for s in article.sentences
        ],
        "faq": [{"question": f.question, "answer": f.answer, "position": f.position, "origin": f.origin}
                for f in article.faq],
        "footnotes": [{"marker": f.marker, "text": f.text, "url": f.url} for f in article.footnotes],
    }
