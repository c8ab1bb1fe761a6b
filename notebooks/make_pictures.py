"""Write the README's pictures of `autograd.viz` into notebooks/img/ (run from anywhere; needs `dot`).

Each picture is small and deterministic, so re-running this leaves the committed files unchanged.
The step-through picture is a screenshot of the saved page at one frame, taken by Playwright in
Debian's Chromium (skipped when either is missing).
"""

import pathlib
import shutil
import sys
import tempfile

import nn
from autograd import Value, extend, viz

IMG = pathlib.Path(__file__).resolve().parent / "img"


def reused():
    """y = 3a + 5a: a's grad 8 is the sum of its two uses' shares, 3 and 5."""
    a = Value(2.0, label="a")
    y = 3 * a + 5 * a
    y.label = "y"
    y.backward()
    return y


@extend.primitive("cube", derivative=lambda ans, x: 2.0 * x * x)  # wrong on purpose: d(x³)/dx = 3x²
def cube(x):
    return x * x * x


def checked():
    x, w = Value(1.5, label="x"), Value(0.5, label="w")
    y = (cube(x) * w).tanh()
    y.label = "y"
    y.backward()
    return viz.draw(y, check=True)


def problems():
    """A dead relu, a gradient that explodes through exp, one that vanishes through a saturated tanh."""
    x, t, v = Value(-1.0, label="x"), Value(8.0, label="t"), Value(0.5, label="v")
    y = (2.0 * x).relu() + t.exp() + (20.0 * v).tanh()
    y.label = "y"
    y.backward()
    return viz.draw(y)


def focused():
    model = nn.MLP(2, [4, 4, 1], activation="tanh", seed=0)
    x = [Value(0.5, label="x1"), Value(-1.5, label="x2")]
    J = (model(x) - 1.0) ** 2
    J.label = "J"
    J.backward()
    weight = model.layers[0].neurons[1].w[0]
    return viz.draw(J, collapse="neuron", focus=weight)


def screenshot(steps, frame: int, path: pathlib.Path) -> None:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print("skipped", path.name, "(no Playwright)")
        return
    chromium = shutil.which("chromium")
    if chromium is None:
        print("skipped", path.name, "(no Chromium)")
        return
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        page_path = steps.save(pathlib.Path(tmp) / "steps.html")
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--headless"])
        page = browser.new_page(viewport={"width": 900, "height": 270})
        page.goto(page_path.as_uri())
        page.evaluate(
            f"() => {{ const s = document.querySelector('[data-cr=\"slider\"]'); s.value = {frame};"
            " s.dispatchEvent(new Event('input')); }"
        )
        page.screenshot(path=str(path))
        browser.close()


def main() -> int:
    IMG.mkdir(exist_ok=True)
    pictures = {
        "reused_node.svg": viz.draw(reused(), show_local_grads=True),
        "check.svg": checked(),
        "problems.svg": problems(),
        "focus.svg": focused(),
    }
    for name, graph in pictures.items():
        (IMG / name).write_bytes(graph.pipe(format="svg"))
        print("wrote", IMG / name)
    y = reused()
    steps = viz.step_through(y)
    a = next(n for n in steps.order if n.label == "a")
    completing = max(k for k, u in enumerate(steps.order) if a in u.parents)
    screenshot(steps, completing, IMG / "step_through.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
