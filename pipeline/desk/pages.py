"""The desk's pages: Jinja2 templates in templates/desk/, autoescaped, and every page body
passed through the digest's allowlist sanitizer (`publish.sanitize.clean_desk_page`), so a
partner string is inert twice over. The only desk module that imports Jinja2."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ..publish.render import TEMPLATES, safe_href
from ..publish.sanitize import clean_desk_page
from ..safetext import clean_text

STATIC = TEMPLATES / "desk" / "static"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined,
                      autoescape=select_autoescape(["html", "html.j2"]), trim_blocks=True, lstrip_blocks=True)
    env.filters.update(safe_href=safe_href, when=_when, day=_day, clean=lambda v: clean_text(str(v or "")))
    return env


def render(name: str, **context) -> str:
    """A desk page: templates/desk/NAME, sanitized."""
    return clean_desk_page(environment().get_template(f"desk/{name}").render(**context))
