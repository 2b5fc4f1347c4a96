"""notebooks/explore.ipynb: outside the numbered chain, committed without outputs, parameterized; run
with papermill on the sample (by release path and by release id), it counts what a run counts."""

import ast
import re
import subprocess

import nbformat
import papermill
import pytest

from pdclosures import database, ingest, params, pipeline, rates

EXPLORE = pipeline.PROJECT_ROOT / "notebooks" / "explore.ipynb"
SAMPLE = pipeline.PROJECT_ROOT / params.SAMPLE_RELEASE


def parameters(notebook) -> dict:
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    return {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(tagged[0].source).body}


def test_explore_is_outside_the_chain_committed_clean_with_defaults_that_run_from_notebooks():
    assert EXPLORE not in pipeline.Paths().notebook_files()
    notebook = nbformat.read(EXPLORE, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    values = parameters(notebook)
    assert (EXPLORE.parent / values["release"]).resolve() == SAMPLE
    assert (EXPLORE.parent / values["interim_dir"]).resolve() == pipeline.PROJECT_ROOT / "data" / "interim"
    assert {k: values[k] for k in ("start", "end", "pd_codes", "excluded_codes")} == {
        k: params.DEFAULTS[k] for k in ("start", "end", "pd_codes", "excluded_codes")
    }


def executed(tmp_path, release: str, interim, **more) -> nbformat.NotebookNode:
    out = tmp_path / f"explore-{len(list(tmp_path.glob('explore-*')))}.ipynb"
    papermill.execute_notebook(
        str(EXPLORE),
        str(out),
        parameters={"release": release, "interim_dir": str(interim), **more},
        cwd=str(EXPLORE.parent),
        kernel_name=pipeline.KERNEL,
        extra_arguments=pipeline.KERNEL_ARGUMENTS,
        progress_bar=False,
    )
    return nbformat.read(out, as_version=4)


def output_text(notebook, cell_id: str) -> str:
    cell = next(cell for cell in notebook.cells if cell.get("id") == cell_id)
    shown = [output.get("data", {}) for output in cell.outputs]
    return "\n".join(
        [output.get("text", "") for output in cell.outputs]
        + [d.get("text/markdown") or d.get("text/plain", "") for d in shown]
    )


@pytest.mark.slow
def test_explore_runs_on_the_sample_and_counts_what_a_run_counts(tmp_path):
    interim = tmp_path / "interim"
    ingested = ingest.ingest_release(SAMPLE, interim, progress=False)
    expected = rates.RateCalculator(ingested, params.parse_window("2012-10-01", "2014-03-31")).national().iloc[0]
    by_path = executed(tmp_path, str(SAMPLE), interim)
    by_id = executed(tmp_path, ingested.cache_dir.name, interim)
    for notebook in (by_path, by_id):
        assert "SYNTHETIC SAMPLE" in output_text(notebook, "explore-02")
        national = output_text(notebook, "explore-07").splitlines()[-1].split()
        assert [int(national[1]), int(national[2])] == [expected["pd_closures"], expected["completions"]]
        for cell_id in ("explore-09", "explore-12", "explore-14", "explore-16"):  # each shows a table
            assert re.search(r"\d", output_text(notebook, cell_id)), cell_id
    # Under pd-dismissals (resolved from the database's decisions view) and another window: the run's counts.
    start, end = "2022-10-01", "2023-09-30"
    notebook = executed(tmp_path, str(SAMPLE), interim, start=start, end=end, definition="pd-dismissals")
    window = params.parse_window(start, end)
    dismissals = rates.RateCalculator(ingested, window, rates.Method(definition="pd-dismissals")).national().iloc[0]
    closures = rates.RateCalculator(ingested, window).national().iloc[0]
    national = output_text(notebook, "explore-07").splitlines()[-1].split()
    assert [int(national[1]), int(national[2])] == [dismissals["pd_closures"], dismissals["completions"]]
    assert dismissals["pd_closures"] > 10 * closures["pd_closures"]  # the sample's era of PD as dismissals
    # The database was opened read-only: the notebook left it as the cache built it.
    assert database.connect(ingested).sql("SELECT count(*) FROM proceedings").fetchall()[0][0] == sum(
        row["loaded"] for row in ingested.accounting.to_dict("records") if row["table"] == "B_TblProceeding"
    )


def test_make_explore_opens_it_in_jupyterlab():
    dry = subprocess.run(
        ["make", "-n", "explore"], cwd=pipeline.PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert "jupyter lab notebooks/explore.ipynb" in dry
