"""The partner registry: one TOML file per partner in a sources folder.

Owns reading and validating `sources/*.toml` into `Source` values. The file name (without
`.toml`) is the source id. `${VAR}` in a value is replaced from the environment, so one
registry can point at staging hosts or at the demo server. Every problem is a
`ConfigError` naming the file, found at load time, before anything is fetched: URL syntax,
hosts (IDNA), ports and the fetch `interval` ("12h", "1d", "2w") included. `load_registry` keeps the good files when some are bad,
so one broken partner file does not stop the others; `load_sources` is strict.
"""
from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from .errors import ConfigError
from .plan import parse_interval
from .types import Source

REQUIRED = ("name", "homepage")
OPTIONAL = ("feeds", "sitemap", "blog_index", "selectors", "aliases", "allowed_hosts", "allow_private",
            "interval")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True, slots=True)
class Registry:
    """The good partner files of a folder, and a ConfigError for each bad one."""

    sources: tuple[Source, ...]
    problems: tuple[ConfigError, ...]


def load_registry(folder: str | Path) -> Registry:
    """Every `*.toml` in `folder`, sorted by id; a bad file is reported, not fatal. Raises
    ConfigError only when the folder is missing or holds no partner file at all."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ConfigError("sources folder not found", str(folder))
    paths = sorted(folder.glob("*.toml"))
    if not paths:
        raise ConfigError("no *.toml partner files in the sources folder", str(folder))
    sources, problems = [], []
    for path in paths:
        try:
            sources.append(load_source(path))
        except ConfigError as e:
            problems.append(e)
    return Registry(tuple(sources), tuple(problems))


def load_sources(folder: str | Path) -> list[Source]:
    """Every `*.toml` in `folder`, sorted by id. Raises ConfigError on the first bad file."""
    registry = load_registry(folder)
    if registry.problems:
        raise registry.problems[0]
    return list(registry.sources)


def load_source(path: str | Path) -> Source:
    path = Path(path)
    source_id = path.stem
    if not _ID.match(source_id):
        raise ConfigError("file name must be a lower-case id (letters, digits, - and _)", str(path))
    try:
        data = tomllib.loads(path.read_text("utf-8-sig"))  # a UTF-8 BOM (Windows editors) is fine
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ConfigError(f"not valid TOML: {e}", str(path)) from e
    except OSError as e:
        raise ConfigError(f"cannot read the file: {e.strerror or e}", str(path)) from e
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
        problem = url_problem(value)
        if problem:
            raise ConfigError(f"'{key}' is not an http(s) URL that can be fetched ({problem}): {value!r}", str(path))
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
    allowed_hosts = data.get("allowed_hosts", [])
    if not isinstance(allowed_hosts, list) or not all(
            isinstance(h, str) and h.strip() and not any(c in h for c in "/ @?#") for h in allowed_hosts):
        raise ConfigError("'allowed_hosts' must be a list of host names (\"cdn.example.org\", "
                          "\"*.example.org\"), without scheme or path", str(path))
    for host in allowed_hosts:
        problem = url_problem(f"http://{host.strip().removeprefix('*.')}/")
        if problem:
            raise ConfigError(f"'allowed_hosts': {host!r}: {problem}", str(path))
    allow_private = data.get("allow_private", False)
    if not isinstance(allow_private, bool):
        raise ConfigError("'allow_private' must be true or false", str(path))
    interval = data.get("interval")
    if interval is not None:
        if not isinstance(interval, str):
            raise ConfigError("'interval' must be a duration string such as \"12h\", \"1d\" or \"2w\"", str(path))
        try:
            interval = parse_interval(interval)
        except ValueError as e:
            raise ConfigError(f"'interval': {e}", str(path)) from e
    return Source(
        id=source_id,
        name=data["name"].strip(),
        homepage=url(data["homepage"], "homepage"),
        feeds=tuple(url(f, "feeds") for f in feeds),
        sitemap=url(data["sitemap"], "sitemap") if "sitemap" in data else None,
        blog_index=url(data["blog_index"], "blog_index") if "blog_index" in data else None,
        selectors=tuple(sorted(selectors.items())),
        aliases=tuple(aliases),
        allowed_hosts=tuple(h.strip() for h in allowed_hosts),
        allow_private=allow_private,
        interval=interval,
    )


_LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")


def url_problem(value: str) -> str | None:
    """Why `value` cannot be fetched as an http(s) URL (syntax, host, port), or None."""
    if any(ch.isspace() or ord(ch) < 32 for ch in value):
        return "whitespace or control characters"
    try:
        parts = urlsplit(value)
        port = parts.port
        host = parts.hostname
    except ValueError as e:  # e.g. "http://[::1/", port 99999
        return str(e)
    if parts.scheme not in ("http", "https"):
        return "not http or https"
    if not host:
        return "no host"
    if port == 0:
        return "port 0"
    if parts.netloc.startswith("[") or _is_ipv4(host):
        return None
    return _host_problem(host)


def _is_ipv4(host: str) -> bool:
    return bool(re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", host)) and all(int(x) < 256 for x in host.split("."))


def _host_problem(host: str) -> str | None:
    """A DNS name the resolver accepts: IDNA-encodable, labels of 1-63 letters, digits,
    hyphens (not at either end) and underscores, 'xn--' labels valid punycode."""
    try:
        if host.isascii():
            ascii_host = host.rstrip(".").encode("idna").decode("ascii").lower()
        else:
            # IDNA 2008 with UTS 46 mapping, as the HTTP client applies it ('idna' comes with
            # httpx); the standard codec's IDNA 2003 would accept names it refuses.
            import idna
            ascii_host = idna.encode(host.rstrip("."), uts46=True).decode("ascii")
    except (UnicodeError, ValueError) as e:  # idna.IDNAError is a UnicodeError
        return f"host {host!r} is not a valid IDNA name: {e}"
    if len(ascii_host) > 253:
        return "host name longer than 253 characters"
    for label in ascii_host.split("."):
        if not _LABEL.match(label):
            return f"host {host!r} has an invalid label {label!r}"
        if label.startswith("xn--"):
            try:
                label.encode("ascii").decode("idna")
            except UnicodeError:
                return f"host {host!r} has an invalid IDNA label {label!r}"
    return None


def _expand(value: str, path: Path) -> str:
    def sub(m: re.Match) -> str:
        name = m.group(1)
        if name not in os.environ:
            raise ConfigError(f"${{{name}}} is used but not set in the environment", str(path))
        return os.environ[name].rstrip("/")

    return _VAR.sub(sub, value)
