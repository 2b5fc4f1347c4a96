"""Notebooks are committed clean, each with a tagged parameters cell that matches the pipeline's."""

import ast

import nbformat
import pytest

from pdclosures import params
from pdclosures.pipeline import Paths

NOTEBOOKS = Paths().notebook_files()
# Parameters the runner adds to the user-facing ones: where to read and write.
LOCATIONS = {"interim_dir", "processed_dir", "figures_dir"}


def test_the_chain_has_the_numbered_notebooks():
    assert [p.name[:3] for p in NOTEBOOKS][:3] == ["01_", "02_", "03_"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_one_parameters_cell_with_every_run_parameter(path):
    notebook = nbformat.read(path, as_version=4)
    tagged = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, path.name
    assigned = {}
    for node in ast.parse(tagged[0].source).body:
        assert isinstance(node, ast.Assign), "the parameters cell holds only assignments"
        assigned[node.targets[0].id] = ast.literal_eval(node.value)
    assert set(assigned) == set(params.DEFAULTS) | LOCATIONS, path.name
    for name, default in params.DEFAULTS.items():
        if name not in ("release", "run"):
            assert assigned[name] == default, f"{path.name}: {name}"
