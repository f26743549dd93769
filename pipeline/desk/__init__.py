"""`syndicate desk`: the editor's web app (Starlette), a thin face over the library API.

- `app`: the routes (this week's digest with its actions, the review queue, the send
  step, partner health, the decision history) and the safety around them: Host check,
  sessions, CSRF tokens, the password off loopback, security headers.
- `pages`: the desk's Jinja2 pages (templates/desk/), every body through the digest's
  sanitizer.

Must not: reach the store's private functions or run SQL from a request (everything goes
through `pipeline.core.Syndicate`), or render partner text unescaped.
"""
from __future__ import annotations

from .app import DeskSettings, create_app, serve, settings_for

__all__ = ["DeskSettings", "create_app", "serve", "settings_for"]
