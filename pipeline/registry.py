"""The partner registry: one TOML file per partner in a sources folder.

Owns reading and validating `sources/*.toml` into `Source` values. The file name (without
`.toml`) is the source id. `${VAR}` in a value is replaced from the environment, so one
registry can point at staging hosts or at the demo server. Every problem is a
`ConfigError` naming the file, raised at load time, before anything is fetched.
"""
from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

from .errors import ConfigError
from .types import Source

REQUIRED = ("name", "homepage")
OPTIONAL = ("feeds", "sitemap", "blog_index", "selectors", "aliases")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def load_sources(folder: str | Path) -> list[Source]:
    """Every `*.toml` in `folder`, sorted by id. Raises ConfigError on the first bad file."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError("sources folder not found", str(folder))
    sources = [load_source(p) for p in sorted(folder.glob("*.toml"))]
    if not sources:
        raise ConfigError("no *.toml partner files in the sources folder", str(folder))
    return sources


def load_source(path: str | Path) -> Source:
    path = Path(path)
    source_id = path.stem
    if not _ID.match(source_id):
        raise ConfigError("file name must be a lower-case id (letters, digits, - and _)", str(path))
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"not valid TOML: {e}", str(path)) from e
    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(unknown)}; allowed: "
                          f"{', '.join(REQUIRED + OPTIONAL)}", str(path))
    for key in REQUIRED:
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise ConfigError(f"missing required key '{key}' (a non-empty string)", str(path))

    def url(value: object, key: str) -> str:
        if not isinstance(value, str):
            raise ConfigError(f"'{key}' must be a URL string", str(path))
        value = _expand(value, path)
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"'{key}' is not an http(s) URL: {value!r}", str(path))
        return value

    feeds = data.get("feeds", [])
    if isinstance(feeds, str):
        feeds = [feeds]
    if not isinstance(feeds, list):
        raise ConfigError("'feeds' must be a list of URLs", str(path))
    selectors = data.get("selectors", {})
    if not isinstance(selectors, dict) or not all(isinstance(v, str) for v in selectors.values()):
        raise ConfigError("'selectors' must be a table of CSS selector strings", str(path))
    aliases = data.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise ConfigError("'aliases' must be a list of strings", str(path))
    return Source(
        id=source_id,
        name=data["name"].strip(),
        homepage=url(data["homepage"], "homepage"),
        feeds=tuple(url(f, "feeds") for f in feeds),
        sitemap=url(data["sitemap"], "sitemap") if "sitemap" in data else None,
        blog_index=url(data["blog_index"], "blog_index") if "blog_index" in data else None,
        selectors=tuple(sorted(selectors.items())),
        aliases=tuple(aliases),
    )


def _expand(value: str, path: Path) -> str:
    def sub(m: re.Match) -> str:
        name = m.group(1)
        if name not in os.environ:
            raise ConfigError(f"${{{name}}} is used but not set in the environment", str(path))
        return os.environ[name].rstrip("/")

    return _VAR.sub(sub, value)
