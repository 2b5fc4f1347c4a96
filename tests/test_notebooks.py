"""The numbered notebooks: committed clean, each with a parameters cell the runner can fill and a
user can run by hand from notebooks/, turned into one run object by its first code cell."""

import ast

import nbformat
import pytest

from pdclosures import params
from pdclosures.pipeline import PROJECT_ROOT, Paths

NOTEBOOKS = Paths().notebook_files()
# Parameters the runner adds to the user's: where to read and write; defaults relative to notebooks/.
LOCATIONS = {
    "interim_dir": "../data/interim",
    "processed_dir": "../data/processed/default",
    "figures_dir": "../figures/default",
}


def declared(notebook) -> tuple[int, dict]:
    """The index of the notebook's one parameters cell, and the values it assigns."""
    tagged = [i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1, "one cell tagged parameters"
    values = {}
    for node in ast.parse(notebook.cells[tagged[0]].source).body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, "the parameters cell holds only assignments"
        values[node.targets[0].id] = ast.literal_eval(node.value)
    return tagged[0], values


def test_the_chain_is_the_four_numbered_notebooks():
    assert [p.stem for p in NOTEBOOKS] == ["01_ingest", "02_rates", "03_figures", "04_validate"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_without_outputs(path):
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_are_known_with_defaults_that_run_from_the_notebooks_folder(path):
    _, values = declared(nbformat.read(path, as_version=4))
    assert values and set(values) <= set(params.DEFAULTS) | set(LOCATIONS)
    expected = {**params.DEFAULTS, "run": "default", **LOCATIONS}
    for name, value in values.items():
        if name == "release":  # relative to notebooks/, where a notebook opened by hand runs
            assert (path.parent / value).resolve() == PROJECT_ROOT / params.SAMPLE_RELEASE
        else:
            assert value == expected[name], name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_first_code_cell_makes_the_run_from_exactly_the_declared_parameters(path):
    notebook = nbformat.read(path, as_version=4)
    index, values = declared(notebook)
    first = next(cell for cell in notebook.cells[index + 1 :] if cell.cell_type == "code")
    calls = [
        node
        for node in ast.walk(ast.parse(first.source))
        if isinstance(node, ast.Call)
        and ast.unparse(node.func) in ("params.Run.from_parameters", "Run.from_parameters")
    ]
    assert len(calls) == 1, "run = params.Run.from_parameters(...) in the first code cell"
    passed = {keyword.arg: ast.unparse(keyword.value) for keyword in calls[0].keywords}
    assert passed == {name: name for name in values}
