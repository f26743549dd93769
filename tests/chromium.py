"""A headless Chromium for tests, driven over the DevTools protocol on a pipe (fds 3 and 4:
`--remote-debugging-pipe`), so no port is opened and no extra library is needed.

`load(path, width)` opens a local file at a viewport width and reports what a person
would see and what the page did: its height and width, every request it made, every
script parsed, every console or log error, every `[data-item]` element with its links, and
a full-page PNG screenshot.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    for name in CANDIDATES:
        if path := shutil.which(name):
            return path
    return None


@dataclass
class PageReport:
    width: int
    height: int
    scroll_width: int
    requests: list[str] = field(default_factory=list)
    scripts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)
    text: str = ""
    screenshot: Path | None = None


class Chromium:
    def __init__(self, exe: str, *, timeout: float = 30.0):
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="syndicate-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()

        def wire_fds() -> None:  # in the child: the protocol's fixed descriptors
            read, write = os.dup(to_chrome_r), os.dup(from_chrome_w)  # above 4, so neither is clobbered
            read, write = os.dup2(read, 100), os.dup2(write, 101)
            os.dup2(read, 3)
            os.dup2(write, 4)

        self.proc = subprocess.Popen(
            [exe, "--headless=new", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--disable-sync",
             "--disable-background-networking", "--disable-component-update", "--disable-default-apps",
             "--hide-scrollbars", "--mute-audio", f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            close_fds=False, preexec_fn=wire_fds)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict] = []

    # --- protocol -----------------------------------------------------------------------------

    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self._from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str) -> dict:
        deadline = time.monotonic() + self.timeout
        for i, ev in enumerate(self.events):
            if ev.get("method") == method and ev.get("sessionId") == session:
                return self.events.pop(i)
        while True:
            ev = self._read_message(deadline)
            if ev.get("method") == method and ev.get("sessionId") == session:
                return ev
            self.events.append(ev)

    # --- a page ---------------------------------------------------------------------------------

    def load(self, path: Path, width: int, *, height: int = 800, screenshot: Path | None = None) -> PageReport:
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network", "Debugger"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1,
                                                          "mobile": width < 600}, session=session)
        self.events.clear()
        url = path.resolve().as_uri()
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_for("Page.loadEventFired", session)
        time.sleep(0.3)  # late requests (fonts, images) would show up here
        self.send("Runtime.evaluate", {"expression": "1"}, session=session)  # flush pending events
        during_load = [e for e in self.events if e.get("sessionId") == session]
        report = PageReport(width=width, height=0, scroll_width=0)
        for ev in during_load:
            method, params = ev.get("method"), ev.get("params", {})
            if method == "Network.requestWillBeSent":
                report.requests.append(params["request"]["url"])
            elif method == "Debugger.scriptParsed" and params.get("url") != "":
                report.scripts.append(params.get("url"))
            elif method == "Debugger.scriptParsed" and params.get("executionContextAuxData", {}).get("isDefault") \
                    and not params.get("url") and params.get("length", 0) > 1:
                report.scripts.append(f"inline script ({params.get('length')} chars)")
            elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert", "warning"):
                report.errors.append(json.dumps(params.get("args"))[:300])
            elif method == "Runtime.exceptionThrown":
                report.errors.append(json.dumps(params.get("exceptionDetails"))[:300])
            elif method == "Log.entryAdded" and params["entry"].get("level") in ("error", "warning"):
                report.errors.append(params["entry"].get("text", "")[:300])
        facts = self.send("Runtime.evaluate", {"returnByValue": True, "expression": """JSON.stringify({
            height: document.documentElement.scrollHeight, scrollWidth: document.documentElement.scrollWidth,
            scripts: document.querySelectorAll('script').length,
            handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes].some(a => a.name.startsWith('on'))).length,
            text: document.body.innerText,
            items: [...document.querySelectorAll('[data-item]')].map(e => ({id: e.dataset.item,
                links: [...e.querySelectorAll('a[href]')].map(a => a.href)}))})"""}, session=session)
        data = json.loads(facts["result"]["value"])
        report.height, report.scroll_width, report.items, report.text = \
            data["height"], data["scrollWidth"], data["items"], data["text"]
        if data["scripts"] or data["handlers"]:
            report.scripts.append(f"{data['scripts']} <script> element(s), {data['handlers']} on* handler(s)")
        if screenshot is not None:
            self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": min(report.height, 16000),
                                                              "deviceScaleFactor": 1, "mobile": width < 600},
                      session=session)
            shot = self.send("Page.captureScreenshot", {"format": "png"}, session=session)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            report.screenshot = screenshot
        self.send("Target.closeTarget", {"targetId": target})
        return report

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (RuntimeError, TimeoutError, OSError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self._to_chrome, self._from_chrome):
            try:
                os.close(fd)
            except OSError:
                pass
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Tab:
    """One page to drive like a person (the desk's browser test): go to a URL, click, type,
    press a key, read the page, take a screenshot. Every action that loads a page waits for
    its load event. Cookies persist in the browser's profile across tabs."""

    def __init__(self, browser: Chromium, width: int, height: int = 900):
        self.browser, self.width, self.height = browser, width, height
        self.target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = browser.send("Target.attachToTarget", {"targetId": self.target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            browser.send(f"{domain}.enable", session=self.session)
        self.resize(width, height)
        self.errors: list[str] = []

    def resize(self, width: int, height: int | None = None) -> None:
        self.width, self.height = width, height or self.height
        self.browser.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": self.height,
                                                                  "deviceScaleFactor": 1, "mobile": width < 600},
                          session=self.session)

    def _collect(self) -> None:
        keep = []
        for ev in self.browser.events:
            if ev.get("sessionId") != self.session:
                keep.append(ev)
                continue
            method, params = ev.get("method"), ev.get("params", {})
            if method == "Runtime.exceptionThrown":
                self.errors.append(json.dumps(params.get("exceptionDetails"))[:300])
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                self.errors.append(params["entry"].get("text", "")[:300])
        self.browser.events[:] = keep

    def _loaded(self, action) -> None:
        self._collect()
        action()
        self.browser.wait_for("Page.loadEventFired", self.session)
        time.sleep(0.1)
        self.js("1")
        self._collect()

    def goto(self, url: str) -> None:
        self._loaded(lambda: self.browser.send("Page.navigate", {"url": url}, session=self.session))

    def js(self, expression: str):
        reply = self.browser.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                       "awaitPromise": True}, session=self.session)
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression[:80]}: {reply['exceptionDetails']}")
        return reply.get("result", {}).get("value")

    def click(self, selector: str) -> None:
        """Click the element (a button that submits a form, a link) and wait for the next page."""
        found = self.js(f"!!document.querySelector({json.dumps(selector)})")
        if not found:
            raise AssertionError(f"no {selector} on {self.url}")
        self._loaded(lambda: self.js(f"document.querySelector({json.dumps(selector)}).click()"))

    def fill(self, selector: str, value: str) -> None:
        self.js(f"(e => {{ e.focus(); e.value = {json.dumps(value)}; }})(document.querySelector({json.dumps(selector)}))")

    def press(self, key: str, *, loads: bool = True) -> None:
        """A key pressed on the page (not in a field), as a person types it; waits for the
        page it loads (unless `loads` is false: a key that only ticks a box)."""
        self.js("document.activeElement && document.activeElement.blur()")

        def down_up():
            for kind in ("keyDown", "keyUp"):
                params = {"type": kind, "key": key, "code": f"Key{key.upper()}",
                          "windowsVirtualKeyCode": ord(key.upper())}
                if kind == "keyDown":
                    params["text"] = key
                self.browser.send("Input.dispatchKeyEvent", params, session=self.session)
        if loads:
            self._loaded(down_up)
        else:
            down_up()
            self.js("1")

    @property
    def url(self) -> str:
        return self.js("location.href")

    @property
    def text(self) -> str:
        return self.js("document.body.innerText")

    def scroll_width(self) -> int:
        return self.js("document.documentElement.scrollWidth")

    def screenshot(self, path: Path) -> Path:
        height = min(self.js("document.documentElement.scrollHeight"), 16000)
        self.resize(self.width, max(height, 100))
        shot = self.browser.send("Page.captureScreenshot", {"format": "png"}, session=self.session)
        path.write_bytes(base64.b64decode(shot["data"]))
        self.resize(self.width, 900)
        return path

    def close(self) -> None:
        self.browser.send("Target.closeTarget", {"targetId": self.target})
