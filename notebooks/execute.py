"""Re-execute every notebook here in place, on a fresh kernel each (`make notebooks`), or the ones named.

No timing metadata is recorded, and consecutive prints of a cell are merged into one output
(the kernel splits them wherever its buffer happened to flush), so re-running an unchanged
notebook leaves it byte-identical. Widget state is not stored (its model ids are random), so a
widget's view is dropped from the saved output and its text form stays: a viewer would otherwise
say "model not found" where the live notebook shows sliders.
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _merge_streams(outputs):
    """Consecutive stdout (or stderr) outputs as one, the text joined in order."""
    merged = []
    for out in outputs:
        last = merged[-1] if merged else None
        if out.output_type == "stream" and last is not None and last.output_type == "stream" and last.name == out.name:
            last.text += out.text
        else:
            merged.append(out)
    return merged


def main(names=()) -> int:
    """Every notebook here, or only those named (e.g. 05_seeing_backprop.ipynb)."""
    for path in [HERE / name for name in names] or sorted(HERE.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        NotebookClient(
            nb,
            timeout=120,
            kernel_name="python3",
            record_timing=False,
            store_widget_state=False,
            resources={"metadata": {"path": str(HERE)}},
        ).execute()
        for cell in nb.cells:
            cell.metadata.pop("execution", None)
            if cell.cell_type == "code":
                cell.outputs = _merge_streams(cell.outputs)
                for out in cell.outputs:
                    out.get("data", {}).pop(WIDGET_VIEW, None)
        nbformat.write(nb, path)
        print(f"executed {path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
