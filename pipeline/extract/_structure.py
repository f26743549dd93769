"""Structure inside the content root: blocks, FAQ pairs, footnotes, selectors.

Owns: walking the chosen element in reading order into blocks (headings, paragraphs, list
items with their leading labels, table cells), finding FAQ pairs in markup (microdata,
Yoast/Rank Math and accordion blocks, <details>, question headings under an FAQ heading)
and in JSON-LD, and resolving footnote markers to their references.
Must not: split sentences or label them (that is `_article` and `_labels`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

from ._html import BLOCK_TAGS, HEADINGS, PARA_TAGS, _tokens
from ._meta import JsonLd, types_of
from ._text import collapse_space, normalize_text

# --- a tiny CSS selector subset, for per-source overrides ----------------------------------------
# The registry's selectors are simple ("article .post-body", "#content", "div.entry > p").
# lxml's cssselect needs an extra package; this covers tag, #id, .class, [attr], [attr=v],
# descendant and child combinators, and comma groups.

_CSS_PART = re.compile(r"""\s*(>)?\s*([A-Za-z][\w-]*|\*)?((?:[#.][\w-]+|\[[^\]]+\])*)""")


def css_to_xpath(selector: str) -> str:
    groups = []
    for group in selector.split(","):
        group = group.strip()
        if not group:
            continue
        xpath = "descendant-or-self::"
        first = True
        pos = 0
        while pos < len(group):
            m = _CSS_PART.match(group, pos)
            if not m or m.end() == pos:
                raise ValueError(f"unsupported CSS selector: {selector!r}")
            child, tag, quals = m.group(1), m.group(2) or "*", m.group(3)
            if not first:
                xpath += "/" if child else "//"
            first = False
            conds = []
            for q in re.findall(r"#[\w-]+|\.[\w-]+|\[[^\]]+\]", quals):
                if q[0] == "#":
                    conds.append(f"@id='{q[1:]}'")
                elif q[0] == ".":
                    conds.append(f"contains(concat(' ', normalize-space(@class), ' '), ' {q[1:]} ')")
                else:
                    body = q[1:-1]
                    if "=" in body:
                        name, value = body.split("=", 1)
                        value = value.strip().strip("\"'")
                        op = name[-1] if name[-1] in "~^$*" else ""
                        name = name.rstrip("~^$*").strip()
                        if op == "*":
                            conds.append(f"contains(@{name}, '{value}')")
                        elif op == "^":
                            conds.append(f"starts-with(@{name}, '{value}')")
                        elif op == "~":
                            conds.append(f"contains(concat(' ', normalize-space(@{name}), ' '), ' {value} ')")
                        else:
                            conds.append(f"@{name}='{value}'")
                    else:
                        conds.append(f"@{body.strip()}")
            xpath += tag + "".join(f"[{c}]" for c in conds)
            pos = m.end()
            if pos < len(group) and group[pos] == " " and not group[pos:].strip():
                break
        groups.append(xpath)
    return " | ".join(groups)


def select(doc, selector: str) -> list:
    try:
        return doc.xpath(css_to_xpath(selector))
    except Exception:  # a broken registry selector must not stop the run; fall back to detection
        return []


# --- footnotes ---------------------------------------------------------------------------------

_MARKER_TEXT = re.compile(r"^[\[(]?(\d{1,3}|[a-z]|[ivx]{1,4}|[*\u2020\u2021\u00a7])[\])]?$")
_NOTES_HEADING = re.compile(
    r"^(?:foot\s*notes?|end\s*notes?|notes|references?|sources?|citations?|bibliography|"
    r"works\s+cited|further\s+reading\s+and\s+sources)\s*:?$", re.IGNORECASE)
_NOTES_CLASS = re.compile(r"(?:^|[-_])(?:footnotes?|endnotes?|references|citations|bibliography|"
                          r"sources|fn-list|reflist)(?:$|[-_])", re.IGNORECASE)
_BACKREF = re.compile(r"^[\s\u21a9\u21aa\u2191\u2934^\ufe0e]*(?:back|return|jump up|top)?[\s\u21a9\u2191^]*$", re.I)


@dataclass
class Footnotes:
    notes: dict = field(default_factory=dict)  # marker -> (text, url)
    order: list = field(default_factory=list)  # markers in list order
    markers: dict = field(default_factory=dict)  # marker element -> marker string
    skip: set = field(default_factory=set)  # the reference list (and its heading)


def _note_from_item(li, base_url: str) -> tuple[str, str | None]:
    url = None
    parts = []
    for a in li.iter("a"):
        href = (a.get("href") or "").strip()
        text = collapse_space(a.text_content())
        if href.startswith("#") and (not text or _BACKREF.match(text)):
            continue
        if url is None and href and not href.startswith("#"):
            absolute = urljoin(base_url, href)
            if absolute.startswith(("http://", "https://")):
                url = absolute
    text = collapse_space(li.text_content())
    for a in li.iter("a"):
        t = collapse_space(a.text_content())
        if (a.get("href") or "").startswith("#") and t and _BACKREF.match(t):
            text = text.replace(t, "").strip()
    text = re.sub(r"[\s\u21a9\u2191^]+$", "", text)
    parts.append(text)
    return normalize_text(" ".join(parts)), url


def _marker_of(el) -> tuple[str | None, str | None]:
    """(marker, target id) when `el` is a footnote marker (<sup>, or a #link with a number)."""
    text = collapse_space(el.text_content())
    m = _MARKER_TEXT.match(text)
    if not m:
        return None, None
    target = None
    links = [el] if el.tag == "a" else list(el.iter("a"))
    for a in links:
        href = a.get("href") or ""
        if "#" in href:
            target = href.split("#", 1)[1] or None
            break
    return m.group(1), target


def find_footnotes(root, doc, base_url: str) -> Footnotes:
    fn = Footnotes()
    candidates = []
    for el in root.iter("sup", "a"):
        if el.tag == "a" and (el.getparent() is not None and el.getparent().tag == "sup"):
            continue
        if el.tag == "a" and not (el.get("href") or "").startswith("#"):
            continue
        marker, target = _marker_of(el)
        if marker:
            candidates.append((el, marker, target))
    lists = []
    ids = {t for _, _, t in candidates if t}
    if ids:
        by_id = {}
        for el in doc.iter():
            i = el.get("id") if isinstance(el.tag, str) else None
            if i in ids:
                by_id[i] = el
        for _, marker, target in candidates:
            item = by_id.get(target)
            while item is not None and item.tag != "li":
                item = item.getparent()
            if item is not None and item.getparent() is not None:
                container = item.getparent()
                if container not in lists:
                    lists.append(container)
    if not lists:
        for el in doc.iter("ol", "ul", "div", "section", "aside"):
            if any(_NOTES_CLASS.search(t) for t in _tokens(el)):
                target = el if el.tag in ("ol", "ul") else el.find(".//ol") if el.find(".//ol") is not None else el.find(".//ul")
                if target is not None and target not in lists:
                    lists.append(target)
    if not lists:
        for el in root.iter(*HEADINGS, "p", "strong", "b"):
            if _NOTES_HEADING.match(collapse_space(el.text_content())):
                nxt = el.getnext()
                host = el
                while nxt is None and host.getparent() is not None and host is not root:
                    host = host.getparent()
                    nxt = host.getnext()
                if nxt is not None and nxt.tag in ("ol", "ul"):
                    lists.append(nxt)
                    fn.skip.add(host)
    for container in lists:
        start = 1
        try:
            start = int(container.get("start") or 1)
        except ValueError:
            pass
        for n, li in enumerate(container.findall("li")):
            marker = str(start + n)
            ident = li.get("id") or ""
            m = re.search(r"(\d+)$", ident)
            if m:
                marker = str(int(m.group(1)))
            text, url = _note_from_item(li, base_url)
            if text and marker not in fn.notes:
                fn.notes[marker] = (text, url)
                fn.order.append(marker)
        fn.skip.add(container)
        prev = container.getprevious()
        if prev is not None and _NOTES_HEADING.match(collapse_space(prev.text_content())):
            fn.skip.add(prev)
    for el, marker, target in candidates:
        if fn.notes and (marker in fn.notes or target):
            fn.markers[el] = marker
        elif el.tag == "sup" and target:
            fn.markers[el] = marker
    return fn


# Footnote digits glued to the end of a sentence ("...as of 2022.1 Studies"), when the
# page has a reference list and the marker was typed rather than superscripted.
GLUED_MARKER = re.compile(r"(?<=[A-Za-z0-9%)\]\"'\u201d\u2019][.,;:!?])(\d{1,2})(?=\s+[A-Z\"\u201c(]|\s*$)")


# --- FAQ ---------------------------------------------------------------------------------------

@dataclass
class FaqFound:
    question: str
    answer: str
    origin: str
    question_el: object = None


_Q_CLASS = re.compile(r"(?:^|[-_])(?:question|faq-question|faq-q|faq-title|faq__question|faq-item-title|"
                      r"accordion-title|accordion-header|accordion-heading|accordion-toggle|accordion-trigger|"
                      r"toggle-title|tab-title|elementor-tab-title|rank-math-question|sp-faq-title)(?:$|[-_])", re.I)
_A_CLASS = re.compile(r"(?:^|[-_])(?:answer|faq-answer|faq-a|faq-content|faq__answer|accordion-content|"
                      r"accordion-body|accordion-panel|accordion-collapse|collapse|toggle-content|tab-content|"
                      r"elementor-tab-content|rank-math-answer|panel|sp-faq-content)(?:$|[-_])", re.I)
_FAQ_HEADING = re.compile(r"\bFAQs?\b|frequently\s+asked|common\s+questions|questions?\s+(?:and|&)\s+answers",
                          re.IGNORECASE)


def faq_key(question: str) -> str:
    return re.sub(r"[^\w]+", " ", normalize_text(question).lower()).strip()


def _text(el) -> str:
    return normalize_text(el.text_content()) if el is not None else ""


def faq_from_markup(root) -> list[FaqFound]:
    found: list[FaqFound] = []
    seen_q: set = set()

    def add(q_el, question: str, answer: str, origin: str) -> None:
        question, answer = normalize_text(question), normalize_text(answer)
        if not question or not answer or q_el in seen_q:
            return
        seen_q.add(q_el)
        found.append(FaqFound(question, answer, origin, q_el))

    # schema.org microdata
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        itemtype = el.get("itemtype") or ""
        if itemtype.rstrip("/").lower().endswith("schema.org/question"):
            q_el = el.find('.//*[@itemprop="name"]')
            a_el = el.find('.//*[@itemprop="acceptedAnswer"]')
            if a_el is not None and a_el.find('.//*[@itemprop="text"]') is not None:
                a_el = a_el.find('.//*[@itemprop="text"]')
            if q_el is not None and a_el is not None:
                add(q_el, _text(q_el), _text(a_el), "microdata")
    # class-named question/answer pairs (Yoast, Rank Math, accordions)
    for el in root.iter():
        if not isinstance(el.tag, str) or el in seen_q:
            continue
        if not any(_Q_CLASS.search(t) for t in _tokens(el)):
            continue
        q_el = el
        a_el = q_el.getnext()
        while a_el is None and q_el.getparent() is not None and q_el.getparent() is not root and len(q_el.getparent()) == 1:
            q_el = q_el.getparent()
            a_el = q_el.getnext()
        if a_el is None:
            continue
        if not (any(_A_CLASS.search(t) for t in _tokens(a_el)) or _text(el).endswith("?")):
            continue
        if any(_Q_CLASS.search(t) for t in _tokens(a_el)):
            continue
        origin = "yoast" if any("schema-faq" in t for t in _tokens(el)) else "accordion"
        add(el, _text(el), _text(a_el), origin)
    # <details><summary>
    for det in root.iter("details"):
        summary = det.find("summary")
        if summary is None or summary in seen_q:
            continue
        q = _text(summary)
        in_faq = q.endswith("?") or any(_FAQ_HEADING.search(t) for t in _tokens(det.getparent()) if det.getparent() is not None)
        if not in_faq:
            continue
        answer = normalize_text(" ".join(
            [det.text or ""] + [c.text_content() + (c.tail or "") for c in det if c is not summary]
            + [summary.tail or ""]))
        add(summary, q, answer, "details")
    # question headings (or bold-only paragraphs) under an FAQ heading, answered by what follows
    headings = [el for el in root.iter(*HEADINGS)]
    for h in headings:
        if not _FAQ_HEADING.search(_text(h)):
            continue
        level = int(h.tag[1])
        node = h.getnext()
        current_q = None
        answer_parts: list[str] = []

        def close() -> None:
            if current_q is not None and answer_parts:
                add(current_q, _text(current_q), " ".join(answer_parts), "heading")

        while node is not None:
            if not isinstance(node.tag, str):
                node = node.getnext()
                continue
            text = _text(node)
            is_heading = node.tag in HEADINGS
            bold_only = node.tag == "p" and len(node) == 1 and node[0].tag in ("strong", "b") and \
                not (node.text or "").strip() and not (node[0].tail or "").strip()
            if is_heading and int(node.tag[1]) <= level and not text.endswith("?"):
                break
            if (is_heading or bold_only) and text.endswith("?"):
                close()
                current_q, answer_parts = node, []
            elif is_heading:
                close()
                current_q, answer_parts = None, []
            elif current_q is not None and node not in seen_q and text:
                if any(q in seen_q for q in node.iter()):
                    break  # a marked-up FAQ block: already read above
                answer_parts.append(text)
            node = node.getnext()
        close()
    return found


def faq_from_jsonld(ld: JsonLd | None) -> list[FaqFound]:
    if ld is None:
        return []
    out = []
    for page in ld.nodes:
        if "faqpage" not in types_of(page):
            continue
        entities = page.get("mainEntity") or page.get("hasPart") or []
        if isinstance(entities, dict):
            entities = [entities]
        for ent in entities:
            ent = ld.resolve(ent)
            if not isinstance(ent, dict):
                continue
            q = ent.get("name") or ent.get("text")
            ans = ld.resolve(ent.get("acceptedAnswer") or ent.get("suggestedAnswer"))
            if isinstance(ans, list) and ans:
                ans = ld.resolve(ans[0])
            a = ans.get("text") if isinstance(ans, dict) else ans if isinstance(ans, str) else None
            if isinstance(q, str) and isinstance(a, str):
                a_text = _strip_tags(a)
                if q.strip() and a_text:
                    out.append(FaqFound(normalize_text(_strip_tags(q)), a_text, "json-ld"))
    return out


def _strip_tags(html: str) -> str:
    if "<" not in html:
        return normalize_text(html)
    import lxml.html
    try:
        return normalize_text(lxml.html.fragment_fromstring(html, create_parent="div").text_content())
    except Exception:
        return normalize_text(re.sub(r"<[^>]+>", " ", html))


# --- blocks ------------------------------------------------------------------------------------

@dataclass
class Block:
    tag: str
    text: str = ""
    links: list = field(default_factory=list)  # (start, end, href, anchor text)
    markers: list = field(default_factory=list)  # (offset, marker)
    section: str | None = None
    label: str | None = None
    hint: str | None = None  # "heading" or "question"
    lead_end: int = -1  # end offset of a bold lead-in, for labels


class _Run:
    __slots__ = ("tag", "parts", "length", "links", "markers", "lead_end", "lead_open")

    def __init__(self, tag: str):
        self.tag = tag
        self.parts: list[str] = []
        self.length = 0
        self.links: list = []
        self.markers: list = []
        self.lead_end = -1
        self.lead_open = True

    def add(self, text: str | None) -> None:
        if text:
            self.parts.append(text)
            self.length += len(text)
            if self.lead_open and text.strip():
                self.lead_open = False

    def text(self) -> str:
        return "".join(self.parts)


_INLINE_LEAD = {"strong", "b"}
_PLAIN_LABEL = re.compile(r"^\s*([A-Z][\w()/&,'\u2019 -]{1,60}?)\s*:\s+\S")


class Walker:
    """Turns the content root into blocks in reading order."""

    def __init__(self, *, skip: set, markers: dict, questions: set, base_url: str):
        self.skip = skip
        self.markers = markers
        self.questions = questions
        self.base_url = base_url
        self.blocks: list[Block] = []
        self.section: str | None = None

    def run(self, root) -> list[Block]:
        self._walk(root)
        return self.blocks

    # reading
    def _walk(self, el) -> None:
        tag = el.tag
        if tag in HEADINGS or el in self.questions:
            self._emit_whole(el, "heading" if tag in HEADINGS and el not in self.questions else "question")
            return
        run = _Run(tag if tag in PARA_TAGS else "p")
        run.add(el.text)
        for child in el:
            ctag = child.tag
            if not isinstance(ctag, str):
                run.add(child.tail)
                continue
            if child in self.skip:
                run.add(child.tail)
                continue
            if child in self.markers:
                run.markers.append((run.length, self.markers[child]))
                run.add(child.tail)
                continue
            if ctag in HEADINGS or child in self.questions or ctag in BLOCK_TAGS:
                self._flush(run)
                run = _Run(tag if tag in PARA_TAGS else "p")
                run.lead_open = False
                self._walk(child)
                run.add(child.tail)
                continue
            self._inline(child, run)
            run.add(child.tail)
        self._flush(run)

    def _inline(self, el, run: _Run) -> None:
        tag = el.tag
        if not isinstance(tag, str) or el in self.skip:
            return
        if el in self.markers:
            run.markers.append((run.length, self.markers[el]))
            return
        if tag == "br":
            run.add("\n")
            return
        lead = run.lead_open and tag in _INLINE_LEAD
        start = run.length
        run.add(el.text)
        for child in el:
            self._inline(child, run)
            run.add(child.tail)
        if lead and run.length > start:
            run.lead_end = run.length
        if tag == "a":
            href = (el.get("href") or "").strip()
            if href and run.length > start:
                run.links.append((start, run.length, href, "".join(run.parts)[start:run.length]))

    def _emit_whole(self, el, hint: str) -> None:
        run = _Run(el.tag)
        run.add(el.text)
        for child in el:
            self._inline(child, run)
            run.add(child.tail)
        text = run.text()
        if not text.strip():
            return
        block = Block(tag=el.tag, text=text, links=run.links, markers=run.markers,
                      section=self.section, hint=hint)
        self.blocks.append(block)
        if hint == "heading":
            self.section = normalize_text(text)

    def _flush(self, run: _Run) -> None:
        text = run.text()
        if not text.strip():
            return
        label = None
        if run.tag in ("li", "p", "dd", "dt"):
            if run.lead_end > 0:
                lead = text[:run.lead_end].strip()
                after = text[run.lead_end:].lstrip()
                if lead.endswith(":") or after[:1] in (":", "\u2013", "\u2014", "-"):
                    candidate = lead.rstrip(":").strip()
                    if candidate and len(candidate.split()) <= 8 and after:
                        label = normalize_text(candidate)
            if label is None and run.tag in ("li", "dd"):
                m = _PLAIN_LABEL.match(text)
                if m and len(m.group(1).split()) <= 6:
                    label = normalize_text(m.group(1))
        self.blocks.append(Block(tag=run.tag, text=text, links=run.links, markers=run.markers,
                                 section=self.section, label=label, lead_end=run.lead_end))
