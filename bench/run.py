"""Run every benchmark and write bench/RESULTS.md: the machine, Python, the date and every figure."""

from __future__ import annotations

import datetime
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import graph  # noqa: E402
import moons  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


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


def main() -> None:
    print("micrograd's demo, side by side ...", flush=True)
    demo = moons.report(moons.run(steps=20))
    print(demo, flush=True)
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
            "- made by: `make bench` (bench/run.py); micrograd 0.1.0 and chainrule measured in the same process",
            "",
            "## micrograd's demo loop",
            "",
            demo,
            "",
            "## Graph throughput and memory",
            "",
            graphs,
            "",
        ]
    )
    RESULTS.write_text(text)
    print(f"\nwrote {RESULTS}")


if __name__ == "__main__":
    main()
