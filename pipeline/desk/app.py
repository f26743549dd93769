"""The desk's routes and the safety around them (Starlette; uvicorn serves it).

Pages: this week's digest as it will be sent with each item's actions (`/week/W`), the
review queue one question at a time (`/review`), the email's preview and the send step
(`/send/W`), partner health (`/health`), every decision with its undo (`/history`).
Every action is one call on `pipeline.core.Syndicate` with the editor's name.

Safe by default:
- served on 127.0.0.1; another address only with a password (`SYNDICATE_DESK_PASSWORD`),
  and the desk refuses to start without one (`settings_for`);
- a request whose Host header is not the address served is refused (DNS rebinding), as in
  `syndicate browse`; so is a POST whose Origin is another site;
- sessions in a signed cookie (Starlette's, itsdangerous) that is Secure, HttpOnly and
  SameSite=Strict, signed with a key made at start (a restart ends every session);
- every state-changing request is a POST carrying the session's CSRF token (403 without);
- pages are autoescaped and sanitized (`pages`), with a Content-Security-Policy that runs
  only the desk's own script; the digest preview is served sandboxed;
- no request names SQL or a table: every handler calls the library API with typed values.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from ..browse import allowed_host
from ..core import DEFAULT_SENDER, Syndicate, default_editor
from ..errors import AlreadySent, ConfigError, LockHeld, SyndicateError
from .pages import STATIC, render

PASSWORD_VAR = "SYNDICATE_DESK_PASSWORD"
DEFAULT_PORT = 8002
SESSION_SECONDS = 12 * 3600
LOGIN_FAILURES = 5  # wrong passwords from one address before it waits
LOGIN_WAIT = 60.0  # seconds
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; "
            "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'")
# the digest as sent, inside the desk's frame: no script, no request, nothing but its own style
PREVIEW_CSP = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; frame-ancestors 'self'"
VERDICTS = ("yes", "no", "skip", "not-claim", "group")
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}


@dataclass(frozen=True)
class DeskSettings:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    password: str | None = None
    editor: str | None = None  # the editor's name on loopback without a password (default: the system user)
    out: Path | None = None  # where a sent digest is written (as `digest --out`)
    base_url: str | None = None
    email_to: tuple[str, ...] = ()
    email_from: str = DEFAULT_SENDER
    smtp_url: str | None = None
    week: str = "last"
    kinds: tuple[str, ...] = ("claim", "faq")
    groups: bool = False  # the review also asks group questions (default: pair questions only)

    @property
    def can_send(self) -> bool:
        return bool(self.out and self.email_to and self.smtp_url)


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def settings_for(host: str = "127.0.0.1", port: int = DEFAULT_PORT, *, env: Mapping[str, str] | None = None,
                 **options) -> DeskSettings:
    """The desk's settings; `ConfigError` when `host` is not a loopback address and no
    password is set in the environment (the desk then must not start)."""
    env = os.environ if env is None else env
    password = env.get(PASSWORD_VAR) or None
    if not is_loopback(host) and not password:
        raise ConfigError(f"--host {host} is not a loopback address: anyone who can reach it could edit and send "
                          f"the digest. Set {PASSWORD_VAR} to a password (and serve it over HTTPS), or leave "
                          "--host at 127.0.0.1")
    if password is not None and len(password) < 8:
        raise ConfigError(f"{PASSWORD_VAR} is too short: at least 8 characters")
    return DeskSettings(host=host, port=port, password=password, **options)


@dataclass
class _Ctx:
    """One request as a handler sees it: the form (POST), the editor, the session."""

    request: Request
    form: Mapping[str, str]
    lists: Mapping[str, list[str]]
    editor: str
    session: dict
    path_params: Mapping[str, str] = field(default_factory=dict)

    def flash(self, text: str, kind: str = "ok") -> None:
        self.session.setdefault("flash", []).append([kind, str(text)[:2000]])

    def page(self, name: str, **context) -> HTMLResponse:
        flashes = self.session.pop("flash", [])
        html = render(name, editor=self.editor, csrf=self.session.get("csrf", ""), flashes=flashes, **context)
        return HTMLResponse(html)


class Desk:
    """The desk over one `Syndicate` (shared by every request: the API is thread-safe; the
    review session is one, behind a lock)."""

    def __init__(self, syndicate: Syndicate, settings: DeskSettings):
        self.syn = syndicate
        self.settings = settings
        self._review = None
        self._review_lock = threading.Lock()
        self._failures: dict[str, list[float]] = {}

    # --- plumbing ----------------------------------------------------------------------------------

    def route(self, path: str, handler: Callable[[_Ctx], Response], *, methods=("GET",),
              public: bool = False) -> Route:
        async def endpoint(request: Request) -> Response:
            session = request.session
            if "csrf" not in session:
                session["csrf"] = secrets.token_urlsafe(32)
            if request.method == "POST":
                if not _same_origin(request):
                    return _refused("this request came from another site")
                data = await request.form(max_files=0, max_fields=100)
                token = data.get("csrf")
                if not isinstance(token, str) or not hmac.compare_digest(token, session["csrf"]):
                    return _refused("missing or wrong CSRF token: reload the page and try again")
                lists = {k: [v for v in data.getlist(k) if isinstance(v, str)] for k in data.keys()}
                form = {k: v[-1] for k, v in lists.items() if v}
            else:
                form, lists = {}, {}
            if not session.get("editor") and not public:
                if self.settings.password:
                    return RedirectResponse("/login", status_code=303)
                session["editor"] = self.settings.editor or default_editor()
            ctx = _Ctx(request, form, lists, session.get("editor", ""), session, request.path_params)
            try:
                response = await run_in_threadpool(handler, ctx)
            except (SyndicateError, ValueError) as e:
                if request.method != "POST":
                    raise
                ctx.flash(_reason(e), "error")
                response = RedirectResponse(_back(form), status_code=303)
            return response
        return Route(path, endpoint, methods=list(methods))

    def review(self):
        if self._review is None:
            self._review = self.syn.review(self.settings.kinds, groups=self.settings.groups)
        return self._review

    # --- this week -----------------------------------------------------------------------------------

    def home(self, ctx: _Ctx) -> Response:
        return RedirectResponse(f"/week/{self.syn.week(self.settings.week)}", status_code=303)

    def _week(self, ctx: _Ctx):
        try:
            return self.syn.week(ctx.path_params["week"])
        except ConfigError as e:
            raise _NotFound(str(e)) from e

    def week_page(self, ctx: _Ctx) -> Response:
        wk = self._week(ctx)
        full = ctx.request.query_params.get("full") == "1"
        preview = self.syn.email_preview(wk, email_to=self.settings.email_to, email_from=self.settings.email_from,
                                         base_url=self.settings.base_url)
        digest = preview.full if full else preview.digest
        labels = [t.label for t in preview.full.topics]
        return ctx.page("week.html.j2", week=str(wk), prev=str(_shift(wk, -1)), next=str(_shift(wk, 1)), d=digest,
                        full=full, labels=labels, note=preview.full.note or "", sent=preview.sent,
                        decisions=self.syn.decisions(week=wk, limit=30), refused=preview.digest.refused)

    def preview(self, ctx: _Ctx) -> Response:
        wk = self._week(ctx)
        preview = self.syn.email_preview(wk, email_to=self.settings.email_to, email_from=self.settings.email_from,
                                         base_url=self.settings.base_url)
        if ctx.path_params.get("fmt") == "txt":
            return PlainTextResponse(preview.text, headers={"Content-Security-Policy": PREVIEW_CSP})
        return HTMLResponse(preview.html, headers={"Content-Security-Policy": PREVIEW_CSP,
                                                   "X-Frame-Options": "SAMEORIGIN"})

    def set_note(self, ctx: _Ctx) -> Response:
        wk = self._week(ctx)
        self.syn.set_week_note(wk, ctx.form.get("text", ""), by=ctx.editor)
        ctx.flash("The week's note is saved." if ctx.form.get("text", "").strip() else "The week's note is removed.")
        return _to(f"/week/{wk}#note")

    def topic(self, ctx: _Ctx) -> Response:
        wk = self._week(ctx)
        label = ctx.form.get("label", "")
        if ctx.form.get("into"):
            self.syn.merge_topics(wk, label, ctx.form["into"], by=ctx.editor)
            ctx.flash(f"Topic “{label}” merged into “{ctx.form['into']}”, this week and later ones.")
        else:
            d = self.syn.rename_topic(wk, label, ctx.form.get("new_label", ""), by=ctx.editor)
            ctx.flash(f"Topic “{label}” is now “{d.details['shown_as']}”, this week and later ones.")
        return _to(f"/week/{wk}#topics")

    def pin(self, ctx: _Ctx) -> Response:
        wk = self._week(ctx)
        claim = self.syn.pin_claim(_int(ctx.form, "claim_id"), _int(ctx.form, "mention_id"), by=ctx.editor, week=wk)
        ctx.flash(f"Claim {claim.claim_id} now leads with that wording.")
        return _to(_back(ctx.form, f"/week/{wk}"))

    def split(self, ctx: _Ctx) -> Response:
        wk = self._week(ctx)
        new = self.syn.split_claim(_int(ctx.form, "claim_id"), [_int(ctx.form, "mention_id")], by=ctx.editor, week=wk)
        ctx.flash(f"Split off into claim {new.claim_id}.")
        return _to(_back(ctx.form, f"/week/{wk}"))

    def hide(self, ctx: _Ctx) -> Response:
        wk = self._week(ctx)
        self.syn.hide_mentions([_int(ctx.form, "mention_id")], mentions=True, by=ctx.editor, week=wk)
        self._forget_review("hide")
        ctx.flash("Hidden: that sentence is not a claim, in this digest and every later one (undo brings it back).")
        return _to(_back(ctx.form, f"/week/{wk}"))

    # --- history and undo ----------------------------------------------------------------------------

    def history(self, ctx: _Ctx) -> Response:
        return ctx.page("history.html.j2", decisions=self.syn.decisions(limit=200), sends=self.syn.sends()[:50])

    def undo(self, ctx: _Ctx) -> Response:
        decision = self.syn.undo(int(ctx.path_params["decision"]), by=ctx.editor)
        self._forget_review(decision.action)
        ctx.flash(f"Undone: {decision.action} of {decision.subject}.")
        return _to(_back(ctx.form, "/history"))

    def _forget_review(self, action: str) -> None:
        if action in ("review", "merge", "split", "pin", "hide"):
            with self._review_lock:
                if self._review is not None:
                    self._review.reload()

    # --- review --------------------------------------------------------------------------------------

    def review_page(self, ctx: _Ctx) -> Response:
        with self._review_lock:
            review = self.review()
            questions = review.questions(1)
            progress = review.progress()
        last = next((d for d in self.syn.decisions(limit=50) if d.action == "review" and d.undone_at is None
                     and d.undoable), None)
        return ctx.page("review.html.j2", q=questions[0] if questions else None, progress=progress, last=last)

    def answer(self, ctx: _Ctx) -> Response:
        """One answer, as the review form sends it: the button pressed (`verdict`), the
        candidates ticked as the same (`same`, a group question) and the sides ticked as
        not a claim (`not_claim`, each the mention ids of one side)."""
        verdict = ctx.form.get("verdict", "")
        if verdict not in VERDICTS:
            raise ConfigError(f"unknown answer {verdict!r} (yes, no, skip, not-claim or group)")
        hidden = [_number(x, "not_claim") for value in ctx.lists.get("not_claim", []) for x in value.split()]
        if verdict == "not-claim" and not hidden:
            raise ConfigError("tick the side that is not a claim (key a or b), then press x")
        question = ctx.form.get("question", "")
        with self._review_lock:
            if verdict == "group":
                same = [_number(x, "same") for x in ctx.lists.get("same", [])]
                done = self.review().answer(question, same=same, hidden=hidden, by=ctx.editor)
            else:
                done = self.review().answer(question, verdict, hidden=hidden, by=ctx.editor)
        said = []
        if done.merged:
            said.append(f"Merged into claim {done.merged_into}.")
        if done.kept_apart:
            said.append(f"Kept apart in every later run: {', '.join(map(str, done.kept_apart))}.")
        if done.hidden:
            said.append(f"Not a claim: {len(done.hidden)} sentence(s) hidden from the claims and the digest.")
        ctx.flash(" ".join(said or ["Skipped."]) + " (u undoes it)")
        return _to("/review")

    def review_undo(self, ctx: _Ctx) -> Response:
        last = next((d for d in self.syn.decisions(limit=50) if d.action == "review" and d.undone_at is None), None)
        if last is None:
            ctx.flash("Nothing to undo.", "error")
            return _to("/review")
        self.syn.undo(last.id, by=ctx.editor)
        self._forget_review("review")
        with self._review_lock:
            if self._review is not None and self._review.answered:
                self._review.answered -= 1  # the progress counts answers in force
        ctx.flash(f"Undone: your answer about {last.subject}.")
        return _to("/review")

    def review_finish(self, ctx: _Ctx) -> Response:
        with self._review_lock:
            refitted = self.review().finish()
            self.review().reload()
        ctx.flash("Pair model refitted from the answers; claims re-clustered with it." if refitted
                  else "The pair model did not change.")
        return _to("/review")

    # --- send ----------------------------------------------------------------------------------------

    def send_page(self, ctx: _Ctx) -> Response:
        wk = self._week(ctx)
        preview = self.syn.email_preview(wk, email_to=self.settings.email_to, email_from=self.settings.email_from,
                                         base_url=self.settings.base_url)
        return ctx.page("send.html.j2", week=str(wk), preview=preview, settings=self.settings, confirm=False,
                        smtp_host=_host(self.settings.smtp_url))

    def send(self, ctx: _Ctx) -> Response:
        wk = self._week(ctx)
        if not self.settings.can_send:
            raise ConfigError("sending needs --out, --email-to and --smtp (syndicate desk --help)")
        override = ctx.form.get("override") == "1"
        if ctx.form.get("step") != "send":  # the confirmation step
            preview = self.syn.email_preview(wk, email_to=self.settings.email_to,
                                             email_from=self.settings.email_from, base_url=self.settings.base_url)
            return ctx.page("send.html.j2", week=str(wk), preview=preview, settings=self.settings, confirm=True,
                            smtp_host=_host(self.settings.smtp_url), override=override)
        try:
            result = self.syn.digest(wk, out=self.settings.out, base_url=self.settings.base_url,
                                     email_to=self.settings.email_to, email_from=self.settings.email_from,
                                     smtp_url=self.settings.smtp_url, resend=override, sent_by=ctx.editor)
        except AlreadySent as e:
            ctx.flash(f"Not sent: {e}. Tick “send it again” to override.", "error")
            return _to(f"/send/{wk}")
        email = result.email
        if email is not None and email.sent:
            ctx.flash(f"Sent the digest of {wk} to {', '.join(email.recipients)}.")
        else:
            kept = f" The message is kept in {email.eml_path}." if email is not None and email.eml_path else ""
            ctx.flash(f"Not sent: {email.error if email else 'no email'}.{kept} Nothing is lost: try again.", "error")
        return _to(f"/send/{wk}")

    # --- partner health --------------------------------------------------------------------------------

    def health(self, ctx: _Ctx) -> Response:
        week = self.syn.week(ctx.request.query_params.get("week") or self.settings.week)
        rows = sorted(self.syn.source_health(), key=lambda h: (_STATE_ORDER.get(str(h.state), 9), h.id))
        names = {h.id: h.name or h.id for h in rows}
        return ctx.page("health.html.j2", rows=rows, week=str(week), runs=self.syn.runs(5), names=names,
                        this_week=self.syn.digest_week(week).partner_status)

    # --- login ------------------------------------------------------------------------------------------

    def login_page(self, ctx: _Ctx) -> Response:
        if not self.settings.password:
            return _to("/")
        return ctx.page("login.html.j2", needs_password=True)

    def login(self, ctx: _Ctx) -> Response:
        if not self.settings.password:
            return _to("/")
        client = ctx.request.client.host if ctx.request.client else "?"
        now = time.monotonic()
        recent = [t for t in self._failures.get(client, []) if now - t < LOGIN_WAIT]
        if len(recent) >= LOGIN_FAILURES:
            ctx.flash(f"Too many wrong passwords: wait {int(LOGIN_WAIT)} seconds.", "error")
            return _to("/login")
        name = " ".join(ctx.form.get("name", "").split())[:200]
        if not hmac.compare_digest(ctx.form.get("password", "").encode(), self.settings.password.encode()) \
                or not name:
            self._failures[client] = recent + [now]
            ctx.flash("Wrong password (or no name given).", "error")
            return _to("/login")
        self._failures.pop(client, None)
        ctx.session.clear()  # a new session: no fixation
        ctx.session["editor"] = name
        ctx.session["csrf"] = secrets.token_urlsafe(32)
        return _to("/")

    def logout(self, ctx: _Ctx) -> Response:
        ctx.session.clear()
        return _to("/login" if self.settings.password else "/")


_STATE_ORDER = {"failed": 0, "degraded": 1, "unknown": 2, "healthy": 3}  # the ones to look at first


class _NotFound(SyndicateError):
    pass


def _int(form: Mapping[str, str], name: str) -> int:
    return _number(form.get(name, ""), name)


def _number(value: str, name: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number") from None


def _shift(week, weeks: int):
    from ..publish import Week
    return Week.containing(week.start + (week.end - week.start) * weeks)


def _host(url: str | None) -> str | None:
    try:
        return urlsplit(url or "").hostname
    except ValueError:
        return None


def _back(form: Mapping[str, str], default: str = "/") -> str:
    """Where a POST returns: a path of this desk only (never another site)."""
    back = form.get("back", "")
    return back if back.startswith("/") and not back.startswith("//") and "\\" not in back else default


def _to(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303)


def _reason(e: Exception) -> str:
    if isinstance(e, LockHeld):
        return f"{e}: a run is writing to the database; try again when it has finished"
    return str(e)


def _refused(message: str) -> Response:
    return PlainTextResponse(f"403 Forbidden: {message}\n", status_code=403)


def _same_origin(request: Request) -> bool:
    """A POST's Origin (when the browser sends one) names this desk."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    try:
        parts = urlsplit(origin)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and parts.netloc.lower() == request.headers.get("host", "").lower()


def _static(request: Request) -> Response:
    name = request.path_params["name"]
    path = STATIC / name
    if "/" in name or "\\" in name or path.suffix not in STATIC_TYPES or not path.is_file():
        return PlainTextResponse("404 Not Found\n", status_code=404)
    return Response(path.read_bytes(), media_type=STATIC_TYPES[path.suffix],
                    headers={"Cache-Control": "no-cache"})


def _guard(app, host: str, port: int):
    """The Host check (DNS rebinding) and the headers every response carries."""
    async def guarded(scope, receive, send):
        if scope["type"] != "http":
            return await app(scope, receive, send)
        header = dict(scope.get("headers") or ()).get(b"host")
        if header is None or not allowed_host(header.decode("latin-1"), host, port):
            body = b"400 Bad Request: unexpected Host header: the desk answers only to the address it was started on\n"
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                                    (b"content-length", str(len(body)).encode())]})
            return await send({"type": "http.response.body", "body": body})

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                names = {k.lower() for k, _ in headers}
                for name, value in ((b"content-security-policy", PAGE_CSP.encode()),
                                    (b"x-frame-options", b"DENY"), (b"x-content-type-options", b"nosniff"),
                                    (b"referrer-policy", b"same-origin"), (b"cache-control", b"no-store")):
                    if name not in names:
                        headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)
        await app(scope, receive, send_with_headers)
    return guarded


def create_app(syndicate: Syndicate, settings: DeskSettings | None = None):
    """The desk as an ASGI app (behind the Host check)."""
    settings = settings or DeskSettings()
    desk = Desk(syndicate, settings)
    post = ("POST",)
    routes = [
        desk.route("/", desk.home),
        desk.route("/week/{week}", desk.week_page),
        desk.route("/week/{week}/email.{fmt:str}", desk.preview),
        desk.route("/week/{week}/note", desk.set_note, methods=post),
        desk.route("/week/{week}/topic", desk.topic, methods=post),
        desk.route("/week/{week}/pin", desk.pin, methods=post),
        desk.route("/week/{week}/split", desk.split, methods=post),
        desk.route("/week/{week}/hide", desk.hide, methods=post),
        desk.route("/history", desk.history),
        desk.route("/undo/{decision:int}", desk.undo, methods=post),
        desk.route("/review", desk.review_page),
        desk.route("/review/answer", desk.answer, methods=post),
        desk.route("/review/undo", desk.review_undo, methods=post),
        desk.route("/review/finish", desk.review_finish, methods=post),
        desk.route("/send/{week}", desk.send_page),
        desk.route("/send/{week}", desk.send, methods=post),
        desk.route("/health", desk.health),
        desk.route("/login", desk.login_page, public=True),
        desk.route("/login", desk.login, methods=post, public=True),
        desk.route("/logout", desk.logout, methods=post),
        Route("/static/{name}", _static),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
    ]
    app = Starlette(routes=routes, middleware=[
        Middleware(SessionMiddleware, secret_key=secrets.token_urlsafe(32), session_cookie="syndicate_desk",
                   max_age=SESSION_SECONDS, same_site="strict", https_only=True)],
        exception_handlers={_NotFound: lambda request, exc: PlainTextResponse(f"404 Not Found: {exc}\n", 404)})
    app.state.desk = desk
    return _guard(app, settings.host, settings.port)


def serve(syndicate: Syndicate, settings: DeskSettings, *, ssl_certfile: str | None = None,
          ssl_keyfile: str | None = None) -> None:
    """Serve the desk until interrupted."""
    import uvicorn

    uvicorn.run(create_app(syndicate, settings), host=settings.host, port=settings.port, log_level="warning",
                ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile)
