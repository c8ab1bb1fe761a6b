"""The notebooks in JupyterLab, the client learners use, driven in headless Chromium: each committed
notebook opened as cloned (untrusted) shows every picture it holds and no error; notebook 05's live
sliders render when run, and a slider moved with the keyboard redraws the graph; a wide graph fits
its output area."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from ..pictures.browser import CHROMIUM, FLAGS

pytest.importorskip("jupyterlab", reason="JupyterLab is in the notebooks extra: pip install 'chainrule[notebooks]'")
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="Playwright is not installed: pip install 'chainrule[dev]'"
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
PICTURES = ("image/png", "image/svg+xml", "image/jpeg")
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"  # the notebook in view
OUTPUT_PICTURES = """(root) => [...root.querySelectorAll('.jp-OutputArea-output')].flatMap(
    o => [...o.querySelectorAll('img, svg')].filter(e => !e.parentElement.closest('svg')))"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on 127.0.0.1 over a copy of the notebooks, in its own config and runtime
    folders (so nothing it writes lands in the repository, and no notebook is trusted); yields its URL."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed: 'make test' installs it with apt-get")
    home = tmp_path_factory.mktemp("lab")
    root = home / "notebooks"
    shutil.copytree(REPO / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    port, token = _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "PYTHONPATH": str(REPO),
    }
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}"]
    command += [f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    command += [f"--LabApp.workspaces_dir={home / 'workspaces'}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # CI and this machine run as root
    server = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2).read()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("JupyterLab did not start within 60 s")
                time.sleep(0.5)
        yield url, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(60_000)
        yield context
        context.close()


def _pictures_in(notebook: Path) -> int:
    """How many outputs of the committed notebook are pictures (an image, or HTML holding one)."""
    count = 0
    for cell in json.loads(notebook.read_text())["cells"]:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if any(kind in data for kind in PICTURES) or re.search(r"<(img|svg)\b", "".join(data.get("text/html", ""))):
                count += 1
    return count


def _open(chromium, lab, name: str):
    url, token = lab
    page = chromium.new_page()
    page.goto(f"{url}/lab/tree/{name}?reset&token={token}")  # reset: no tab of an earlier test restored
    page.wait_for_selector(f"{NOTEBOOK} .jp-Cell", state="visible")
    page.wait_for_timeout(1500)  # outputs render after the cells
    return page


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[n.stem for n in NOTEBOOKS])
def test_each_committed_notebook_opened_untrusted_shows_all_its_pictures(chromium, lab, notebook):
    expected = _pictures_in(notebook)
    page = _open(chromium, lab, notebook.name)
    try:
        seen = set()
        panel = page.locator(f"{NOTEBOOK} .jp-WindowedPanel-outer").first  # the element that scrolls
        for _ in range(1000):  # down the notebook: cells below the fold render as they come into view
            at_end = panel.evaluate(
                "p => { p.scrollTop += 400; return p.scrollTop + p.clientHeight >= p.scrollHeight - 1; }"
            )
            page.wait_for_timeout(80)
            for info in page.evaluate(
                f"""() => ({OUTPUT_PICTURES})(document.querySelector('{NOTEBOOK}')).map(e => {{
                    const cell = e.closest('.jp-Cell'); const r = e.getBoundingClientRect();
                    const index = cell.dataset.windowedListIndex || [...document.querySelectorAll('.jp-Cell')].indexOf(cell);
                    const within = ({OUTPUT_PICTURES})(cell).indexOf(e);
                    const ok = e.tagName === 'svg' || (e.complete && e.naturalWidth > 0);
                    return [index, within, ok, r.width];
                }})"""
            ):
                seen.add((info[0], info[1]))
                assert info[2] and info[3] > 0, f"a picture in {notebook.name} did not load"
            if at_end:
                break
        errors = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").count()
        assert errors == 0
        assert len(seen) >= expected, f"{notebook.name}: {len(seen)} pictures shown of {expected} saved"
    finally:
        page.close()


def test_notebook_05s_live_sliders_render_and_the_keyboard_redraws_the_graph(chromium, lab):
    page = _open(chromium, lab, "05_seeing_backprop.ipynb")
    try:
        page.click(NOTEBOOK)
        page.keyboard.press("Escape")
        page.locator("li.lm-MenuBar-item", has_text="Run").click()
        page.get_by_text("Run All Cells", exact=True).click()
        slider = page.locator(".widget-slider .noUi-handle, .widget-hslider .noUi-handle").first
        slider.wait_for(state="attached", timeout=240_000)
        slider.scroll_into_view_if_needed()
        box = slider.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][1]")
        html = box.locator(".widget-html-content").last
        before = html.inner_html()
        assert "<svg" in before
        slider.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "([el, old]) => el.innerHTML !== old", arg=[html.element_handle(), before], timeout=30_000
        )
        assert "<svg" in html.inner_html() and html.inner_html() != before
    finally:
        page.close()


def test_a_wide_graph_fits_its_output_area(chromium, lab):
    page = _open(chromium, lab, "05_seeing_backprop.ipynb")
    try:
        widths = page.evaluate(
            f"""() => ({OUTPUT_PICTURES})(document.querySelector('{NOTEBOOK}'))
                .filter(e => !e.closest('details:not([open])'))  // the folded "full size" view is not shown
                .map(e => [e.getBoundingClientRect().width,
                           e.closest('.jp-OutputArea-output').getBoundingClientRect().width, e.naturalWidth || 0])"""
        )
        assert widths, "no picture is shown"
        assert any(natural > area for _, area, natural in widths), "05 holds a graph wider than its output area"
        for width, area, _ in widths:
            assert width <= area + 1, (width, area)
    finally:
        page.close()
