"""Every Python code block in the README runs as written."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_python_examples():
    assert BLOCKS


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_code_block_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(BLOCKS[index], f"README.md block {index}", "exec"), {"__name__": "readme"})


def test_readme_benchmark_section_matches_bench_results():
    results = (README.parent / "bench" / "RESULTS.md").read_text()
    body = results.split("\n", 2)[2].strip().replace("## ", "### ")
    section = README.read_text().split("<!-- bench:start -->")[1].split("<!-- bench:end -->")[0]
    assert section.strip() == body
