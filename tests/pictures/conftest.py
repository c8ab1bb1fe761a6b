"""Fixtures of the picture tests: a headless Chromium (`browser`) and `open_page`."""

from __future__ import annotations

import pathlib

import pytest

from .browser import CHROMIUM, FLAGS, VIEWPORT, Page


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """A headless Chromium from Debian's packages, with a new empty profile."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed: pip install 'chainrule[dev]'"
    )
    if not pathlib.Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed and this machine cannot install it: 'make test' does so with apt-get")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport=VIEWPORT,
        )
        yield context
        context.close()


@pytest.fixture
def open_page(browser):
    """open_page(path) or open_page(html=..., width=...): a Page, closed after the test."""
    pages = []

    def open_(path=None, **kwargs):
        pages.append(Page(browser, path, **kwargs))
        return pages[-1]

    yield open_
    for page in pages:
        page.close()
