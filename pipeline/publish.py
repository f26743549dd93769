"""The weekly digest: the only module that imports Jinja2.

Renders what `Store.digest_data` returns with the templates in `templates/`. Partner text
reaches the templates only as plain text (extraction strips all markup) and HTML output is
autoescaped; links pass through `safe_href`, which lets only http(s) URLs through.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from .errors import ConfigError

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
FORMATS = {"html": "digest.html.j2", "md": "digest.md.j2", "txt": "digest.txt.j2", "atom": "digest.atom.j2"}


@dataclass(frozen=True, slots=True)
class Week:
    year: int
    week: int

    @classmethod
    def parse(cls, value: str) -> "Week":
        """'2026-W47' (or '2026W47')."""
        try:
            year, _, wk = value.upper().replace("-W", "W").partition("W")
            week = cls(int(year), int(wk))
            week.start  # validates
            return week
        except ValueError as e:
            raise ConfigError(f"not an ISO week like 2026-W47: {value!r}") from e

    @classmethod
    def containing(cls, moment: datetime) -> "Week":
        y, w, _ = moment.isocalendar()
        return cls(y, w)

    @property
    def start(self) -> datetime:
        return datetime.combine(date.fromisocalendar(self.year, self.week, 1), time(), timezone.utc)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=7)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


def safe_href(url: str | None) -> str:
    """`url` when it is an http(s) URL that parses, else `#`."""
    try:
        if url and urlsplit(url).scheme.lower() in ("http", "https"):
            return url
    except ValueError:  # e.g. a malformed [IPv6] host
        pass
    return "#"


# Kept as-is in a Markdown link target: unreserved and reserved URL characters, and `%` so
# that existing escapes are not escaped twice. Everything else (`<`, `>`, `(`, `)`, `[`,
# `]`, `\\`, backquote, quotes, spaces, control and non-ASCII characters) is percent-encoded,
# so no partner string can close the link: `http://h/p#a>)[x](javascript:alert(1))` stays one
# target instead of becoming a second link a renderer turns into `<a href="javascript:...">`.
_MD_HREF_SAFE = "!#$%&*+,-./:;=?@_~"


def md_href(url: str | None) -> str:
    """A link target for Markdown's `[text](<target>)`: http(s) only (else `#`), and
    percent-encoded so that it cannot end the link."""
    href = safe_href(url)
    if href == "#":
        return href
    parts = urlsplit(href)
    # the host keeps [ and ] (IPv6 literals); they cannot end a link without a ")" or ">"
    rest = href[len(parts.scheme) + 3 + len(parts.netloc):]
    return f"{parts.scheme}://{quote(parts.netloc, safe=_MD_HREF_SAFE + '[]')}{quote(rest, safe=_MD_HREF_SAFE)}"


def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "html.j2", "xml", "atom.j2"]),
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["safe_href"] = safe_href
    env.filters["day"] = lambda d: d.strftime("%Y-%m-%d") if d else ""
    env.filters["md_escape"] = _md_escape
    env.filters["md_href"] = md_href
    return env


def render_digest(data: dict, week: Week, *, generated_at: datetime) -> dict[str, str]:
    """{format: text} for every digest format."""
    env = environment()
    merged = [c for c in data["claims"] if len(c["sites"]) > 1]
    context = dict(week=str(week), start=week.start, end=week.end - timedelta(days=1),
                   generated_at=generated_at, merged=merged,
                   single=[c for c in data["claims"] if len(c["sites"]) == 1], **data)
    return {fmt: env.get_template(name).render(**context) for fmt, name in FORMATS.items()}


def write_digest(data: dict, week: Week, out_dir: Path, *, generated_at: datetime,
                 email: tuple[str, list[str]] | None = None) -> list[Path]:
    """Write every format; with `email=(sender, recipients)` also an .eml message."""
    out_dir.mkdir(parents=True, exist_ok=True)
    texts = render_digest(data, week, generated_at=generated_at)
    paths = []
    for fmt, text in texts.items():
        path = out_dir / f"digest-{week}.{fmt}"
        path.write_text(text, "utf-8")
        paths.append(path)
    if email is not None:
        paths.append(write_email(texts, week, out_dir, sender=email[0], recipients=email[1]))
    return paths


def write_email(texts: dict[str, str], week: Week, out_dir: Path, *, sender: str, recipients: list[str]) -> Path:
    """A ready-to-send message (plain text with an HTML alternative) as an .eml file."""
    from email.message import EmailMessage
    from email.utils import formatdate, make_msgid

    msg = EmailMessage()
    msg["Subject"] = f"Partner digest, week {week}"
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain="syndicate.local")
    msg.set_content(texts["txt"])
    msg.add_alternative(texts["html"], subtype="html")
    path = out_dir / f"digest-{week}.eml"
    path.write_bytes(bytes(msg))
    return path


def _md_escape(text: str | None) -> str:
    """Markdown-inert text: markup characters backslash-escaped, and line breaks folded to
    spaces so that a partner string cannot start a block (a heading, a list, an HTML
    block) of its own."""
    if not text:
        return ""
    out = " ".join(text.split())
    for ch in "\\`*_[]<>#|":
        out = out.replace(ch, "\\" + ch)
    return out
