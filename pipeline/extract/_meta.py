"""Article metadata: title, author, dates, canonical URL, language, site name.

Owns: reading JSON-LD (including Yoast-style `@graph`s with `@id` references), Open Graph
and other meta tags, microdata, visible bylines, and the feed entry as a last resort.
Must not: touch the network or the clock; dates without a zone are taken as UTC.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from pipeline.types import ArticleMeta, FeedEntry

from ._text import collapse_space

# --- dates -------------------------------------------------------------------------------------

_ISO = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?\s*$"
)
_MONTHS = {m: i for i, m in enumerate(
    "jan feb mar apr may jun jul aug sep oct nov dec".split(), start=1)}
_WRITTEN = re.compile(
    r"\b(?:(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s+)?(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sept?|oct|nov|dec)"
    r"[a-z]*\.?\s+(?:(?P<d2>\d{1,2})(?:st|nd|rd|th)?,?\s+)?(?P<year>\d{4})\b",
    re.IGNORECASE,
)


def parse_date(value: object) -> datetime | None:
    """A timezone-aware UTC datetime from the date spellings partner pages use.

    ISO 8601 with or without a colon in the offset ("-0800", Squarespace style), RFC 2822
    (feeds), and written dates ("November 19, 2026", "19 Nov 2026"). A date without a
    time is midnight UTC; a time without a zone is taken as UTC.
    """
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc) if value.tzinfo else value.replace(tzinfo=timezone.utc)
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    m = _ISO.match(text)
    if m:
        y, mo, d, hh, mm, ss, tz = m.groups()
        try:
            dt = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
        except ValueError:
            return None
        if tz and tz.upper() not in ("Z", "UTC", "GMT"):
            sign = -1 if tz[0] == "-" else 1
            digits = tz[1:].replace(":", "")
            minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) >= 4 else 0)
            dt = dt.replace(tzinfo=timezone(sign * timedelta(minutes=minutes)))
        else:
            dt = dt.replace(tzinfo=timezone.utc)
        return dt.astimezone(timezone.utc)
    if re.match(r"^[A-Za-z]{3},?\s+\d", text) or re.search(r"\d{2}:\d{2}(:\d{2})?\s+([+-]\d{4}|GMT|UT|[A-Z]{3})$", text):
        try:
            dt = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            dt = None
        if dt is not None:
            return parse_date(dt)
    m = _WRITTEN.search(text)
    if m:
        day = m.group("d1") or m.group("d2")
        if day:
            try:
                return datetime(int(m.group("year")), _MONTHS[m.group("mon")[:3].lower()], int(day),
                                tzinfo=timezone.utc)
            except ValueError:
                return None
    return None


# --- JSON-LD -----------------------------------------------------------------------------------

_ARTICLE_TYPES = {"article", "blogposting", "newsarticle", "posting", "socialmediaposting",
                  "medicalwebpage", "reportagenewsarticle", "techarticle", "scholarlyarticle",
                  "medicalscholarlyarticle", "analysisnewsarticle", "opinionnewsarticle"}


def types_of(node: dict) -> set[str]:
    t = node.get("@type")
    if isinstance(t, str):
        return {t.lower().rsplit("/", 1)[-1]}
    if isinstance(t, list):
        return {x.lower().rsplit("/", 1)[-1] for x in t if isinstance(x, str)}
    return set()


def load_jsonld(scripts: list[str]) -> list[dict]:
    """Every JSON-LD node on the page, flattened out of `@graph`s and lists."""
    nodes: list[dict] = []

    def add(obj: object) -> None:
        if isinstance(obj, list):
            for x in obj:
                add(x)
        elif isinstance(obj, dict):
            if "@graph" in obj:
                add(obj["@graph"])
            if "@type" in obj or "@id" in obj:
                nodes.append(obj)

    for raw in scripts:
        raw = raw.strip()
        if raw.startswith("<!--"):
            raw = raw[4:]
        if raw.endswith("-->"):
            raw = raw[:-3]
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            # Hand-edited JSON-LD often carries trailing commas.
            try:
                data = json.loads(re.sub(r",\s*([\]}])", r"\1", raw), strict=False)
            except ValueError:
                continue
        add(data)
    return nodes


@dataclass
class JsonLd:
    nodes: list[dict]
    by_id: dict[str, dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for n in self.nodes:
            if isinstance(n.get("@id"), str) and n["@id"] not in self.by_id:
                self.by_id[n["@id"]] = n

    def resolve(self, value: object) -> object:
        """Follow an `{"@id": ...}` reference to its node in the same page."""
        if isinstance(value, dict) and set(value) <= {"@id"} and value.get("@id") in self.by_id:
            return self.by_id[value["@id"]]
        if isinstance(value, dict) and "@id" in value and value["@id"] in self.by_id and "name" not in value:
            merged = dict(self.by_id[value["@id"]])
            merged.update(value)
            return merged
        return value

    def of_type(self, names: set[str]) -> list[dict]:
        return [n for n in self.nodes if types_of(n) & names]


def _name_of(value: object, ld: JsonLd) -> str | None:
    value = ld.resolve(value)
    if isinstance(value, str):
        return collapse_space(value) or None
    if isinstance(value, list):
        names = [n for n in (_name_of(v, ld) for v in value) if n]
        return ", ".join(names) or None
    if isinstance(value, dict):
        name = value.get("name")
        if isinstance(name, str) and name.strip():
            return collapse_space(name)
    return None


# --- the page ----------------------------------------------------------------------------------

@dataclass
class PageFacts:
    """What the page's <head>, JSON-LD and byline say, gathered by the HTML stage."""

    title_tag: str | None = None
    h1: str | None = None
    metas: dict[str, str] = field(default_factory=dict)  # lower-cased name/property -> first content
    canonical: str | None = None
    html_lang: str | None = None
    jsonld: JsonLd | None = None
    byline_author: str | None = None
    byline_date: str | None = None
    itemprops: dict[str, str] = field(default_factory=dict)
    rel_authors: list[str] = field(default_factory=list)  # the text of rel=author links


_TITLE_SEPARATORS = re.compile(r"\s+[|\u2013\u2014\-\u00b7\u2022:\u00bb]\s+")


def strip_site_suffix(title: str, site: str | None) -> str:
    """ "How X Works | Archway" -> "How X Works" when the last part names the site."""
    parts = _TITLE_SEPARATORS.split(title)
    if len(parts) >= 2:
        last = parts[-1].strip().lower()
        if site and (last == site.lower() or last in site.lower() or site.lower() in last):
            return collapse_space(title[: title.rfind(parts[-1])].rstrip(" |\u2013\u2014-\u00b7\u2022:\u00bb"))
    return title


def site_name(facts: PageFacts) -> str | None:
    if facts.metas.get("og:site_name"):
        return collapse_space(facts.metas["og:site_name"])
    if facts.jsonld:
        for node in facts.jsonld.nodes:
            if types_of(node) & _ARTICLE_TYPES and node.get("publisher"):
                name = _name_of(node["publisher"], facts.jsonld)
                if name:
                    return name
        for node in facts.jsonld.of_type({"organization", "website", "medicalorganization",
                                          "localbusiness", "medicalbusiness"}):
            name = _name_of(node, facts.jsonld)
            if name:
                return name
    if facts.metas.get("application-name"):
        return collapse_space(facts.metas["application-name"])
    if facts.title_tag:
        parts = _TITLE_SEPARATORS.split(facts.title_tag)
        if len(parts) >= 2:
            return collapse_space(parts[-1])
    return None


_PEOPLE_KEYS = ("author", "reviewedBy", "editor", "contributor", "creator", "lastReviewer")
_NOT_A_NAME = re.compile(r"^(?:admin|administrator|staff|editor|guest|team|author|by)$", re.I)


def credited_people(facts: PageFacts) -> tuple[str, ...]:
    """The people the page credits as its author, reviewer or editor: JSON-LD (`author`,
    `reviewedBy`, ...), author meta tags, the visible byline and rel=author links. A
    sentence that names one of them is a byline or a bio, not a claim."""
    names: list[str] = []
    ld = facts.jsonld
    if ld is not None:
        for node in ld.nodes:
            for key in _PEOPLE_KEYS:
                if node.get(key):
                    names.append(_name_of(node[key], ld) or "")
    for key in ("author", "article:author", "dc.creator", "parsely-author"):
        v = facts.metas.get(key)
        if v and not v.startswith(("http://", "https://")):
            names.append(v)
    for label, data in (("twitter:label1", "twitter:data1"), ("twitter:label2", "twitter:data2")):
        if "by" in (facts.metas.get(label) or "").lower() and facts.metas.get(data):
            names.append(facts.metas[data])
    names += [facts.byline_author or "", facts.itemprops.get("author", "")] + facts.rel_authors
    out: list[str] = []
    for joined in names:
        for name in re.split(r",\s*(?=[A-Z][a-z])|\s+and\s+|\s*&\s*|\s*\|\s*", collapse_space(joined or "")):
            name = re.sub(r"^(?:dr|mr|mrs|ms|prof)\.?\s+", "", name.strip(), flags=re.I)
            name = re.split(r",\s*", name)[0].strip()  # "Dana Whitfield, MS, RD" -> the name
            if 2 <= len(name.split()) <= 5 and not _NOT_A_NAME.match(name) and name not in out:
                out.append(name)
    return tuple(out)


def _position(item: dict) -> int:
    try:
        return int(item.get("position") or 0)
    except (TypeError, ValueError):
        return 0


def breadcrumb_names(facts: PageFacts) -> tuple[str, ...]:
    """The names of a JSON-LD BreadcrumbList's items, in order ("Home", "Blog", ...)."""
    ld = facts.jsonld
    if ld is None:
        return ()
    for node in ld.of_type({"breadcrumblist"}):
        items = node.get("itemListElement") or []
        if isinstance(items, dict):
            items = [items]
        names = []
        nodes = [ld.resolve(i) for i in items]
        nodes = [n for n in nodes if isinstance(n, dict)]
        for item in sorted(nodes, key=_position):
            name = item.get("name")
            if not isinstance(name, str):
                target = ld.resolve(item.get("item"))
                name = target.get("name") if isinstance(target, dict) else None
            if isinstance(name, str) and name.strip():
                names.append(collapse_space(name))
        if len(names) >= 2:
            return tuple(names)
    return ()


def build_meta(facts: PageFacts, url: str, feed_entry: FeedEntry | None) -> ArticleMeta:
    ld = facts.jsonld or JsonLd([])
    metas = facts.metas
    site = site_name(facts)
    article = next(iter(ld.of_type(_ARTICLE_TYPES)), None)
    webpage = next(iter(ld.of_type({"webpage", "faqpage", "itempage"})), None)

    def first(*values: object) -> str | None:
        for v in values:
            if isinstance(v, str) and v.strip():
                return collapse_space(v)
        return None

    title = first(
        article.get("headline") if article else None,
        article.get("name") if article else None,
        strip_site_suffix(metas.get("og:title", ""), site),
        strip_site_suffix(metas.get("twitter:title", ""), site),
        facts.h1,
        strip_site_suffix(facts.title_tag or "", site),
        feed_entry.title if feed_entry else None,
    )

    author = None
    if article and article.get("author"):
        author = _name_of(article["author"], ld)
    if not author:
        for key in ("author", "article:author", "dc.creator", "parsely-author", "sailthru.author"):
            v = metas.get(key)
            if v and not v.startswith(("http://", "https://")):
                author = collapse_space(v)
                break
    author = author or facts.itemprops.get("author") or facts.byline_author
    if not author and feed_entry and feed_entry.author:
        author = collapse_space(feed_entry.author)

    def date(*values: object) -> datetime | None:
        for v in values:
            d = parse_date(v)
            if d:
                return d
        return None

    published = date(
        article.get("datePublished") if article else None,
        webpage.get("datePublished") if webpage else None,
        metas.get("article:published_time"), metas.get("og:published_time"),
        facts.itemprops.get("datePublished"), metas.get("datepublished"),
        metas.get("date"), metas.get("dc.date"), metas.get("dc.date.issued"),
        facts.byline_date,
        feed_entry.published if feed_entry else None,
    )
    updated = date(
        article.get("dateModified") if article else None,
        webpage.get("dateModified") if webpage else None,
        metas.get("article:modified_time"), metas.get("og:updated_time"),
        facts.itemprops.get("dateModified"), metas.get("last-modified"),
        feed_entry.updated if feed_entry else None,
    )

    canonical = facts.canonical or metas.get("og:url")
    canonical = urljoin(url, canonical.strip()) if canonical else None
    if canonical and not canonical.startswith(("http://", "https://")):
        canonical = None

    language = facts.html_lang or metas.get("content-language") or metas.get("og:locale")
    if not language and article and isinstance(article.get("inLanguage"), str):
        language = article["inLanguage"]
    if language:
        language = language.strip().replace("_", "-").split(",")[0] or None

    description = first(metas.get("description"), metas.get("og:description"),
                        metas.get("twitter:description"))
    return ArticleMeta(title=title, author=author, published=published, updated=updated,
                       canonical_url=canonical, language=language, description=description)
