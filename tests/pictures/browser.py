"""Headless Chromium for the picture tests: Debian's /usr/bin/chromium driven by Playwright (never a
browser of Playwright's own), a page that records console errors, and fixtures to open pages (in conftest.py)."""

from __future__ import annotations

import pathlib
import shutil

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1280, "height": 800}


class Page:
    """A page opened from a file (or given its HTML), with every console error and uncaught exception recorded."""

    def __init__(self, context, path: pathlib.Path | None = None, *, html: str | None = None, width=None):
        self.page = context.new_page()
        if width is not None:
            self.page.set_viewport_size({"width": width, "height": VIEWPORT["height"]})
        self.errors = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        if path is not None:
            self.page.goto(path.as_uri())
        else:
            self.page.set_content(html)

    def close(self) -> None:
        self.page.close()
