"""The notebooks run top to bottom on a clean kernel, and show maps."""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_four():
    assert [p.name for p in NOTEBOOKS] == ["01_plan_layouts.ipynb", "02_component_catalogue.ipynb",
                                           "03_locate_and_route.ipynb", "04_monthly_report.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_and_draws(path, tmp_path):
    nb = nbformat.read(path, as_version=4)
    assert not any(cell.get("outputs") for cell in nb.cells if cell.cell_type == "code"), "outputs are committed"
    (tmp_path / "notebooks").mkdir()
    os.symlink(ROOT / "data", tmp_path / "data")  # the notebooks read ../data/samples
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path / "notebooks")}}).execute()
    images = sum("image/png" in out.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
                 for out in cell.outputs)
    assert images >= 2
