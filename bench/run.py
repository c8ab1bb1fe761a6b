"""Run every benchmark; write bench/RESULTS.md (machine, Python, date, every figure) and its copy in docs/performance.md."""

from __future__ import annotations

import datetime
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import compiled  # noqa: E402
import fresh  # noqa: E402
import graph  # noqa: E402
import moons  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
PAGE = Path(__file__).resolve().parents[1] / "docs" / "performance.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}"


def main(argv=()) -> None:
    if "--quick" in argv:  # fewer rounds, no micrograd at width 64, nothing written: a check in a few minutes
        print(fresh.report(fresh.run(quick=True)), flush=True)
        return
    print("side by side, each library in a fresh process ...", flush=True)
    side = fresh.report(fresh.run())
    print(side, flush=True)
    print("\nmicrograd's demo loop, step for step ...", flush=True)
    demo = moons.report(moons.run(steps=20))
    print(demo, flush=True)
    print("\na big compiled graph ...", flush=True)
    big = compiled.report_big(compiled.big_graph())
    print(big, flush=True)
    print("\ngraph throughput and memory ...", flush=True)
    graphs = graph.report(graph.run())
    print(graphs, flush=True)
    text = "\n".join(
        [
            "# Benchmark results",
            "",
            f"- machine: {machine()}",
            f"- Python: {platform.python_implementation()} {platform.python_version()}",
            f"- date: {datetime.date.today().isoformat()}",
            "- made by: `make bench` (bench/run.py)",
            "",
            "## Side by side, each library in its own fresh process",
            "",
            side,
            "",
            "## micrograd's demo loop, step for step in one process",
            "",
            demo,
            "",
            "## A big compiled graph",
            "",
            big,
            "",
            "## Graph throughput and memory",
            "",
            graphs,
            "",
        ]
    )
    RESULTS.write_text(text)
    print(f"\nwrote {RESULTS}")
    update_readme(text)


def update_readme(results: str) -> None:
    """Put the same figures in docs/performance.md, between its bench markers (a test keeps them equal)."""
    body = results.split("\n", 2)[2].strip()  # RESULTS.md without its title
    text = PAGE.read_text()
    start, end = text.index(START) + len(START), text.index(END)
    PAGE.write_text(text[:start] + "\n" + body + "\n" + text[end:])
    print(f"updated {PAGE}")


if __name__ == "__main__":
    main(sys.argv[1:])
