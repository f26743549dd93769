"""The digest model: one week's digest as frozen dataclasses, built from the store's rows.

Pure (no I/O, no clock, no template): `build_digest` decides what the week's digest says
(from partner text cleaned of control characters and escape sequences),
section by section, and `Digest.within(budget)` cuts it to the length an editor sends,
keeping how many items each cut left out so every format can say "n more" and link the
full version. Every item carries its attribution: an `Attribution` without a source site
or an http(s) article link cannot be made, and the builder leaves such an item out and
names it in `Digest.refused` instead of publishing it unattributed.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from typing import Iterator
from urllib.parse import urlsplit

from ..errors import SyndicateError
from ..safetext import clean_json
from ..types import DigestWeek
from .topics import apply_renames, group_topics
from .week import Week


class UnattributedItem(SyndicateError):
    """An item without a source site or an http(s) link to the partner's article."""


def is_http(url: str | None) -> bool:
    try:
        parts = urlsplit(url or "")
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.netloc)


@dataclass(frozen=True, slots=True)
class Attribution:
    site: str
    site_name: str
    url: str
    title: str | None = None

    def __post_init__(self) -> None:
        if not self.site or not self.site_name:
            raise UnattributedItem(f"no source site for {self.url!r}")
        if not is_http(self.url):
            raise UnattributedItem(f"{self.site}: no http(s) article link ({self.url!r})")


@dataclass(frozen=True, slots=True)
class Statement:
    """One partner's own sentence, under its own name, with its date and where that came from."""
    source: Attribution
    text: str
    date: datetime | None = None
    date_source: str = "fetched"
    mention_id: int | None = None  # the stored sentence (what an editor's action names)


@dataclass(frozen=True, slots=True)
class MergedClaim:
    id: str
    claim_id: int
    text: str  # the canonical wording, for search and JSON; each statement keeps its own words
    statements: tuple[Statement, ...]
    first_seen_at: datetime | None = None
    first_stated_at: datetime | None = None
    conflict: str | None = None  # the partners state different figures (flagged by the claims engine)


@dataclass(frozen=True, slots=True)
class TopicLine:
    id: str
    claim_id: int
    statements: tuple[Statement, ...]


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    label: str
    lines: tuple[TopicLine, ...]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.lines)


@dataclass(frozen=True, slots=True)
class Change:
    id: str
    source: Attribution
    revision: int
    date: datetime
    date_source: str
    added: tuple[str, ...]
    removed: tuple[str, ...]
    other_changes: int = 0


@dataclass(frozen=True, slots=True)
class Answer:
    source: Attribution
    text: str


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    question: str
    answers: tuple[Answer, ...]  # one per partner


@dataclass(frozen=True, slots=True)
class NewArticle:
    id: str
    source: Attribution
    date: datetime
    date_source: str
    author: str | None = None


@dataclass(frozen=True, slots=True)
class PartnerArticles:
    site: str
    site_name: str
    articles: tuple[NewArticle, ...]
    total: int

    @property
    def more(self) -> int:
        return self.total - len(self.articles)


@dataclass(frozen=True, slots=True)
class CitedSource:
    id: str
    text: str
    url: str
    cited_by: tuple[Attribution, ...]


@dataclass(frozen=True, slots=True)
class PartnerNote:
    """The editor's note on a partner that failed or was degraded this week: what
    happened, and what it means for the digest (its items may be missing, or its pages'
    new versions are held). Not an attributed item: it quotes no partner sentence."""
    site: str
    site_name: str
    state: str  # failed or degraded
    text: str


@dataclass(frozen=True, slots=True)
class Budget:
    """How much of each section the sent digest shows; the web page's full version shows all."""
    merged: int = 6
    topics: int = 5
    lines_per_topic: int = 3
    changed: int = 5
    questions: int = 4
    articles_per_partner: int = 4
    citations: int = 5
    chars: int = 280  # a longer quoted sentence or answer is cut, with its link kept


@dataclass(frozen=True, slots=True)
class Item:
    """One attributed item as every format shows it: the unit the formats are compared by."""
    id: str
    text: str
    url: str


@dataclass(frozen=True, slots=True)
class Digest:
    week: str
    start: datetime
    end: datetime  # exclusive
    merged: tuple[MergedClaim, ...]
    topics: tuple[Topic, ...]
    changed: tuple[Change, ...]
    questions: tuple[Question, ...]
    partners: tuple[PartnerArticles, ...]
    citations: tuple[CitedSource, ...]
    partner_notes: tuple[PartnerNote, ...] = ()  # partners failed or degraded this week (never cut)
    totals: dict = field(default_factory=dict)  # section -> items in the full digest
    refused: tuple[str, ...] = ()
    full: bool = True
    chars: int = 0  # 0: sentences in full; otherwise the cut length used by the renderers
    note: str | None = None  # the week's note from the editor, shown first (not a partner item)

    @property
    def note_paragraphs(self) -> tuple[str, ...]:
        return tuple(" ".join(p.split()) for p in (self.note or "").split("\n\n") if p.strip())

    @property
    def last_day(self) -> datetime:
        return self.end - timedelta(days=1)

    def more(self, section: str) -> int:
        return self.totals.get(section, 0) - len(getattr(self, section))

    @property
    def empty(self) -> bool:
        return not (self.merged or self.topics or self.changed or self.questions or self.partners)

    def within(self, budget: Budget) -> "Digest":
        topics = tuple(replace(t, lines=t.lines[:budget.lines_per_topic]) for t in self.topics[:budget.topics])
        partners = tuple(replace(p, articles=p.articles[:budget.articles_per_partner]) for p in self.partners)
        return replace(self, merged=self.merged[:budget.merged], topics=topics,
                       changed=self.changed[:budget.changed], questions=self.questions[:budget.questions],
                       partners=partners, citations=self.citations[:budget.citations], full=False,
                       chars=budget.chars)

    def items(self) -> Iterator[Item]:
        """Every attributed item, in the order the formats show them."""
        for c in self.merged:
            for st in c.statements:
                yield Item(f"{c.id}/{st.source.site}", st.text, st.source.url)
        for t in self.topics:
            for line in t.lines:
                for st in line.statements:
                    yield Item(f"{line.id}/{st.source.site}", st.text, st.source.url)
        for ch in self.changed:
            yield Item(ch.id, ch.source.title or ch.source.url, ch.source.url)
        for q in self.questions:
            for a in q.answers:
                yield Item(f"{q.id}/{a.source.site}", a.text, a.source.url)
        for p in self.partners:
            for a in p.articles:
                yield Item(a.id, a.source.title or a.source.url, a.source.url)
        for c in self.citations:
            yield Item(c.id, c.text, c.url)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["items"] = [asdict(i) for i in self.items()]
        out["more"] = {s: self.more(s) for s in ("merged", "topics", "changed", "questions", "citations")}
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2, default=_json_default)

    def content_hash(self) -> str:
        """Of what the digest says (not when it was made): unchanged hash, unchanged digest."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True, default=_json_default)
                              .encode()).hexdigest()


def _json_default(value):
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    raise TypeError(f"not JSON: {type(value)}")


# --- building -------------------------------------------------------------------------------------

class _Builder:
    def __init__(self, sources: dict[str, str]):
        self.sources = sources
        self.refused: list[str] = []

    def attribution(self, row, what: str) -> Attribution | None:
        try:
            return Attribution(row.site or "", self.sources.get(row.site or "", row.site or ""),
                               row.url or "", row.title)
        except UnattributedItem as e:
            self.refused.append(f"{what}: {e}")
            return None

    def statements(self, claim, what: str) -> tuple[Statement, ...]:
        """One statement per site (its first mention), in site order; the wording an editor
        pinned leads (that partner's pinned sentence first)."""
        out: dict[str, Statement] = {}
        pinned = getattr(claim, "pinned_mention_id", None)
        ordered = sorted(claim.statements, key=lambda st: st.mention_id != pinned)
        for st in ordered:
            if st.site in out:
                continue
            source = self.attribution(st, f"{what} ({st.text[:60]!r})")
            if source is not None:
                out[st.site] = Statement(source, st.text, st.stated_at, st.date_source or "fetched", st.mention_id)
        lead = [s for s in out.values() if pinned is not None and s.mention_id == pinned]
        return tuple(lead) + tuple(out[s] for s in sorted(out) if not lead or out[s] is not lead[0])


def build_digest(data: DigestWeek, week: Week) -> Digest:
    """The full digest of `week` from `Store.digest_week`'s `DigestWeek` (see there). Every
    partner string is cleaned first (`safetext.clean_text`: no escape sequence or control
    character reaches any format, whatever an older database holds)."""
    data = clean_json(data)
    b = _Builder(data.sources)
    start, end = week.start, week.end

    # a sentence a partner added in a revision this week is shown under "what changed";
    # listing it again as a topic line would say the same thing twice
    added_in_revisions = {(ch.site, text) for ch in data.changed for text in ch.added}
    merged, others = [], []
    for claim in data.claims:
        statements = b.statements(claim, f"claim {claim.claim_id}")
        stated_before_end = [s for s in statements if s.date is None or s.date < end]
        new_this_week = [s for s in stated_before_end if s.date is not None and start <= s.date < end]
        if not new_this_week:
            continue
        if len(stated_before_end) >= 2:
            merged.append(MergedClaim(f"claim-{claim.claim_id}", claim.claim_id, claim.text,
                                      tuple(stated_before_end), claim.first_seen_at,
                                      claim.first_stated_at,
                                      _conflict_note(claim.conflicts, stated_before_end)))
        elif not all((s.source.site, s.text) in added_in_revisions for s in new_this_week):
            others.append((claim.claim_id, tuple(new_this_week)))
    merged.sort(key=lambda c: (-len(c.statements), c.claim_id))

    topics = []
    groups = group_topics([(cid, " ".join(s.text for s in sts)) for cid, sts in others])
    groups = apply_renames(groups, [(r.label, r.shown_as) for r in data.topic_renames])
    lines_of = dict(others)
    for n, (label, claim_ids) in enumerate(groups, 1):
        lines = tuple(TopicLine(f"topic-{n}-claim-{cid}", cid, lines_of[cid]) for cid in claim_ids)
        topics.append(Topic(f"topic-{n}", label, lines, len(lines)))

    changed = []
    for ch in data.changed:
        if not (ch.added or ch.removed):
            continue  # only filler, headings or promotion changed: nothing an editor reports
        source = b.attribution(ch, f"revision {ch.revision} of {ch.url!r}")
        if source is not None:
            changed.append(Change(f"change-{ch.site}-{len(changed) + 1}-r{ch.revision}", source,
                                  ch.revision, ch.date, ch.date_source, tuple(ch.added),
                                  tuple(ch.removed), ch.other_changes))

    questions: dict[object, tuple[str, dict[str, Answer]]] = {}
    for n, row in enumerate(data.faq):
        key = row.question_id if row.question_id is not None else f"entry-{n}"
        question, answers = questions.setdefault(key, (row.question, {}))
        if row.site in answers:
            continue  # one answer per partner
        source = b.attribution(row, f"answer to {row.question[:60]!r}")
        if source is not None:
            answers[row.site] = Answer(source, row.answer)
    qs = tuple(Question(f"question-{i}", q, tuple(a[s] for s in sorted(a)))
               for i, (q, a) in enumerate(questions.values(), 1) if a)
    qs = tuple(sorted(qs, key=lambda q: -len(q.answers)))

    partners: dict[str, list[NewArticle]] = {}
    for row in data.articles:
        source = b.attribution(row, f"article {row.title!r}")
        if source is not None:
            partners.setdefault(row.site, []).append(
                NewArticle(f"article-{row.article_id}", source, row.date, row.date_source, row.author))
    partner_sections = tuple(PartnerArticles(site, data.sources.get(site, site), tuple(arts), len(arts))
                             for site, arts in sorted(partners.items()))

    citations = _citations(b, merged, topics, data.claims)
    digest = Digest(str(week), start, end, tuple(merged), tuple(topics), tuple(changed), qs, partner_sections,
                    citations, partner_notes=_partner_notes(data), refused=tuple(b.refused),
                    note=(data.editor_note or "").strip() or None)
    totals = {s: len(getattr(digest, s)) for s in ("merged", "topics", "changed", "questions", "citations")}
    return replace(digest, totals=totals)


def _citations(b: _Builder, merged, topics, claims) -> tuple[CitedSource, ...]:
    """The sources cited (with an http(s) link) by the claims this digest shows."""
    shown = {c.claim_id for c in merged} | {line.claim_id for t in topics for line in t.lines}
    cited: dict[str, tuple[str, dict[str, Attribution]]] = {}
    for claim in claims:
        if claim.claim_id not in shown:
            continue
        for st in claim.statements:
            for c in st.citations:
                if not is_http(c.url):
                    continue
                text, by = cited.setdefault(c.url, (_citation_text(c.text, c.url), {}))
                if st.site not in by and (a := b.attribution(st, f"citation of {c.url!r}")) is not None:
                    by[st.site] = a
    return tuple(CitedSource(f"citation-{n}", text, url, tuple(by[s] for s in sorted(by)))
                 for n, (url, (text, by)) in enumerate(sorted(cited.items()), 1) if by)


# What an editor reads for each kind of health reason (pipeline/health.py names them).
_LOOKED_LIKE = {
    "js-shell": "a page that shows its text only with JavaScript",
    "login-wall": "a login page",
    "paywall": "a paywall",
    "maintenance": "a maintenance notice",
    "soft-404": "a \u201cpage not found\u201d notice",
    "revision-drop": "a new version that removes most of an article",
    "thin-page": "pages far shorter than its usual articles",
    "yield-drop": "pages yielding far fewer sentences than usual",
    "extracted-drop": "pages with no text to extract",
    "structure-drop": "a changed page layout",
}


def _partner_notes(data: DigestWeek) -> tuple[PartnerNote, ...]:
    """One note per partner that failed or was degraded in the week's runs."""
    notes = []
    for p in data.partner_status:
        runs = f" in {p.runs} runs" if p.runs > 1 else ""
        if p.state == "failed":
            why = p.reasons[0].rstrip(".") if p.reasons else ""
            text = (f"could not be read{runs}" + (f" ({why})" if why else "")
                    + ": its articles of this week may be missing.")
        else:
            looked = [_LOOKED_LIKE[k] for k in p.kinds if k in _LOOKED_LIKE][:3]
            text = f"served what looked wrong{runs}" + (f" ({'; '.join(looked)})" if looked else "")
            if "confirmed" in p.kinds:
                text += (": a version seen again on a later run replaced the last good one; check what changed "
                         "before trusting it.")
            else:
                text += (": the last good versions of its pages are kept, and the new ones wait to be seen again "
                         "or accepted by an editor.")
        if p.recovered:
            text += " It was read normally again since."
        notes.append(PartnerNote(p.site, data.sources.get(p.site, p.site), p.state, text))
    return tuple(notes)


def _citation_text(text: str | None, url: str) -> str:
    """A reference's text without the URL it ends with (the link carries it)."""
    text = " ".join((text or "").replace(url, " ").split()).rstrip(" ,;:")
    return text or url


def _conflict_note(conflicts, statements: tuple[Statement, ...]) -> str | None:
    """'figures differ (year): ALANA Recovery says 2022; CIVIQ Health says 2023', for the
    partners shown, from the claims engine's conflict flags."""
    names = {s.source.site: s.source.site_name for s in statements}
    notes = []
    for c in conflicts or ():
        said = [(names[x.site], str(x.figure)) for x in c.statements if x.site in names]
        if len({figure for _, figure in said}) > 1:
            notes.append(f"figures differ ({c.kind or 'figure'}): "
                         + "; ".join(f"{name} says {figure}" for name, figure in said))
    return " · ".join(notes) or None
