"""The documentation site (`make docs`): it builds with warnings as errors, every notebook page shows
its pictures in headless Chromium, no internal link is broken, and the API reference lists the
public names."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from ..pictures.conftest import browser, open_page  # noqa: F401 - the fixtures, shared

pytest.importorskip("sphinx", reason="the site needs the docs extra: pip install 'chainrule[docs]'")
pytest.importorskip("myst_nb", reason="the site needs the docs extra: pip install 'chainrule[docs]'")

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
PICTURE_TYPES = ("image/png", "image/svg+xml", "image/jpeg")
API_NAMES = [
    "autograd.Value",
    "autograd.grad",
    "autograd.value_and_grad",
    "autograd.compile",
    "autograd.draw",
    "nn.MLP",
    "nn.fit",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(REPO / "docs"), str(out)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def _pictures_in(notebook: Path) -> int:
    """How many outputs of the notebook are pictures (an image, or HTML holding an <img> or <svg>)."""
    count = 0
    for cell in json.loads(notebook.read_text())["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            html = "".join(data.get("text/html", ""))
            if any(kind in data for kind in PICTURE_TYPES) or re.search(r"<(img|svg)\b", html):
                count += 1
    return count


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag in ("img", "script", "link") and (attrs.get("src") or attrs.get("href")):
            self.hrefs.append(attrs.get("src") or attrs.get("href"))


def _parse(page: Path) -> _Links:
    links = _Links()
    links.feed(page.read_text(encoding="utf-8"))
    return links


def test_the_site_has_a_page_for_every_docs_page_and_notebook(site):
    for page in (REPO / "docs").glob("*.md"):
        assert (site / f"{page.stem}.html").is_file(), page.name
    for notebook in NOTEBOOKS:
        assert (site / "notebooks" / f"{notebook.stem}.html").is_file(), notebook.name


def test_no_internal_link_or_resource_is_broken(site):
    broken = []
    pages = sorted(site.rglob("*.html"))
    parsed = {page: _parse(page) for page in pages}
    for page, links in parsed.items():
        for href in links.hrefs:
            parts = urlsplit(href)
            if parts.scheme or href.startswith(("//", "mailto:", "data:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.is_file():
                broken.append(f"{page.relative_to(site)}: {href}")
            elif parts.fragment and target.suffix == ".html":
                ids = parsed[target].ids if target in parsed else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{page.relative_to(site)}: {href} (no such anchor)")
    assert not broken, "\n".join(broken[:20])


def test_the_api_reference_lists_the_public_names(site):
    ids = _parse(site / "api.html").ids
    assert [name for name in API_NAMES if name not in ids] == []


@pytest.mark.browser
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_every_notebook_page_shows_its_pictures(site, open_page, notebook):  # noqa: F811 - the imported fixture
    expected = _pictures_in(notebook)
    page = open_page(site / "notebooks" / f"{notebook.stem}.html")
    page.page.wait_for_load_state("load")
    shown = page.page.evaluate(
        """() => {
            const outputs = [...document.querySelectorAll('.cell_output')];
            const pictures = outputs.flatMap(o => [...o.querySelectorAll('img, svg')].filter(e => !e.closest('svg svg')));
            const broken = [...document.querySelectorAll('img')].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src);
            const empty = pictures.filter(e => e.getBoundingClientRect().width === 0).length;
            return {pictures: pictures.length, broken, empty};
        }"""
    )
    assert shown["broken"] == [] and shown["empty"] == 0, shown
    assert shown["pictures"] >= expected, (shown, expected)
    # MathJax comes from its CDN, as on JAX's site: offline (as here) only that request fails
    assert [e for e in page.errors if "ERR_NAME_NOT_RESOLVED" not in e and "ERR_INTERNET_DISCONNECTED" not in e] == []
