"""Every Python code block in the README and the docs pages runs as written."""

import re
from pathlib import Path

import pytest

from autograd._optional import MissingExtraError

REPO = Path(__file__).resolve().parents[2]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
BLOCKS = [(page, block) for page in PAGES for block in re.findall(r"```python\n(.*?)```", page.read_text(), flags=re.S)]


def test_readme_has_python_examples():
    assert any(page.name == "README.md" for page, _ in BLOCKS)


@pytest.mark.parametrize("index", range(len(BLOCKS)), ids=[f"{p.name}-{i}" for i, (p, _) in enumerate(BLOCKS)])
def test_docs_code_block_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    page, block = BLOCKS[index]
    try:
        exec(compile(block, f"{page.name} block {index}", "exec"), {"__name__": "readme"})
    except MissingExtraError as missing:  # a block that needs an extra runs where the extra is installed
        pytest.skip(str(missing))


def test_performance_page_matches_bench_results():
    results = (REPO / "bench" / "RESULTS.md").read_text()
    body = results.split("\n", 2)[2].strip()
    section = (
        (REPO / "docs" / "performance.md").read_text().split("<!-- bench:start -->")[1].split("<!-- bench:end -->")[0]
    )
    assert section.strip() == body


def test_the_fifteen_lines_end_in_the_picture_so_one_pasted_cell_shows_it():
    import ast

    first = next(block for page, block in BLOCKS if page.name == "README.md")
    last = ast.parse(first).body[-1]
    assert isinstance(last, ast.Expr) and ast.unparse(last.value).startswith("ag.draw(")
