"""Syndicate's one exception tree.

Every error a stage raises on purpose derives from `SyndicateError`. Errors about a
partner's resource name the source and the URL and say whether trying again later may
help, so the run can record them on the source and carry on.
"""
from __future__ import annotations


class SyndicateError(Exception):
    """Base of every error Syndicate raises on purpose."""


class ConfigError(SyndicateError):
    """The registry or the command line is wrong; `path` names the file at fault."""

    def __init__(self, message: str, path: str | None = None):
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class ResourceError(SyndicateError):
    """Something went wrong with one partner resource (a feed, page, sitemap, robots.txt).

    `kind` is a short stable tag (http-404, timeout, too-large, not-a-feed, robots...) that
    the source health table and the run summary group by.
    """

    kind = "error"
    retryable = False

    def __init__(self, message: str, url: str | None = None, *, source_id: str | None = None,
                 kind: str | None = None, retryable: bool | None = None):
        self.url = url
        self.source_id = source_id
        if kind is not None:
            self.kind = kind
        if retryable is not None:
            self.retryable = retryable
        self.message = message
        super().__init__(message)

    def __str__(self) -> str:
        where = f" ({self.url})" if self.url else ""
        return f"{self.message}{where}"


class FetchError(ResourceError):
    """The HTTP exchange failed: network, status, size, content type, robots."""

    kind = "fetch"


class RobotsDisallowed(FetchError):
    kind = "robots"


class TooLarge(FetchError):
    kind = "too-large"


class OffScope(FetchError):
    """The URL is outside the source's fetch scope; it was not requested."""

    kind = "off-scope"


class PrivateAddress(FetchError):
    """The host resolves to a private, loopback, link-local or otherwise non-public
    address, and the source is not allowed to reach one; nothing was sent."""

    kind = "private-address"


class BudgetExceeded(FetchError):
    """The source's time budget for this run is used up; the URL was not (fully) fetched."""

    kind = "budget"


class ParseError(ResourceError):
    """The bytes arrived but are not what was expected (not a feed, broken XML...)."""

    kind = "parse"


class OutputError(SyndicateError):
    """A file or folder Syndicate writes for people (digest, archive, export, snapshot) could
    not be written: a full disk, no permission, a folder that is not empty. Nothing is left
    half written; `path` names what was being written."""

    def __init__(self, message: str, path: str | None = None):
        self.path = path
        super().__init__(message)


class StoreError(SyndicateError):
    """The database refused something; the message says what."""


class MissingDatabase(StoreError):
    """A command that only reads was pointed at a database that does not exist."""


class LockHeld(StoreError):
    """Another process holds the run lock; `holder` says who (pid, host, since when)."""

    def __init__(self, holder):
        self.holder = holder
        super().__init__(f"another Syndicate process holds the run lock: {holder.describe()}")


class Interrupted(SyndicateError):
    """The work was stopped before it started (a stop while waiting for the run lock)."""


class ClaimNotFound(StoreError):
    """No claim (or FAQ question) has this id."""


class AlreadySent(SyndicateError):
    """The week's digest was already sent; sending it again needs an explicit override
    (`resend=True`, `digest --resend`, the desk's override box). `sent` is that send."""

    def __init__(self, message: str, sent=None):
        self.sent = sent
        super().__init__(message)


class ModelError(SyndicateError):
    """The sentence model could not be loaded or exported; the message says what to do."""
