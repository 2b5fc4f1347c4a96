"""Parameters: every preset loads into a Run with the window it documents; bad values are refused in
one line that names the parameter; each notebook makes its Run from exactly the parameters it declares."""

import ast
import datetime as dt
from pathlib import Path

import nbformat
import pytest
import yaml

from pdclosures import params
from pdclosures.definition import Method, Window
from pdclosures.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]

# The window each preset's description states, read by hand.
PRESET_WINDOWS = {
    "fy2012": ("2011-10-01", "2012-09-30"),  # "Fiscal year 2012 (October 2011 through September 2012)"
    "fy2013": ("2012-10-01", "2013-09-30"),
    "fy2014": ("2013-10-01", "2014-09-30"),
    "report-339": ("2011-10-01", "2013-12-31"),  # "FY2012 through December 2013"
    "trac-2014": ("2012-10-01", "2014-03-31"),  # the bulletin's "October 2012 - March 2014"
}


def test_every_preset_is_listed_here():
    assert sorted(p.stem for p in (ROOT / "params").glob("*.yaml")) == sorted(PRESET_WINDOWS)


@pytest.mark.parametrize("name", sorted(PRESET_WINDOWS))
def test_preset_loads_into_a_run_with_its_window(name):
    path = ROOT / "params" / f"{name}.yaml"
    values = params.resolve(path)
    run = params.Run.from_parameters(**{k: values[k] for k in params.DEFAULTS})
    start, end = (dt.date.fromisoformat(day) for day in PRESET_WINDOWS[name])
    assert run.window == Window(start, end)
    assert run.name == name
    assert run.processed_dir == params.PROJECT_ROOT / "data" / "processed" / name
    assert run.method == Method() and run.min_completions == 100
    assert yaml.safe_load(path.read_text())["description"]  # says what it reproduces


def test_defaults_make_the_default_run():
    run = params.Run.from_parameters()
    assert (run.name, str(run.window), run.min_completions) == ("default", "2012-10-01 to 2014-03-31", 100)
    assert run.method == Method(
        pd_codes=("Y", "M", "I"), excluded_codes=("C", "T"), case_types=None, unit="proceeding", courts=None
    )
    assert run.figures_dir == params.PROJECT_ROOT / "figures" / "default"


def test_parameters_are_parsed_once_into_the_run(tmp_path):
    run = params.Run.from_parameters(
        start=dt.date(2011, 10, 1),
        end="2012-05-31",
        pd_codes="y, m",
        excluded_codes="",
        case_types="rmv,DEP",
        unit="case",
        courts="sea,TUC",
        min_completions="50",
        processed_dir=tmp_path,
    )
    assert run.name == "2011-10-01_to_2012-05-31"
    assert run.window == Window(dt.date(2011, 10, 1), dt.date(2012, 5, 31))
    assert run.method == Method(
        pd_codes=("Y", "M"), excluded_codes=(), case_types=("RMV", "DEP"), unit="case", courts=("SEA", "TUC")
    )
    assert run.min_completions == 50 and run.processed_dir == tmp_path


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(start="2012-13-01"), "START='2012-13-01': not a date; use YYYY-MM-DD, e.g. 2012-10-01"),
        (dict(end="31/03/2014"), "END='31/03/2014': not a date; use YYYY-MM-DD, e.g. 2012-10-01"),
        (dict(start="2014-01-01", end="2013-12-31"), "END=2013-12-31 is before START=2014-01-01"),
        (dict(pd_codes="Y,Q"), "pd_codes: unknown code Q (known: "),
        (dict(pd_codes=" , "), "pd_codes: give at least one code"),
        (dict(excluded_codes="C,ZZ"), "excluded_codes: unknown code ZZ (known: "),
        (dict(pd_codes="Y,T"), "pd_codes and excluded_codes both contain T"),
        (dict(case_types="RMV,XXX"), "case_types: unknown code XXX (known: "),
        (dict(unit="cases"), "unit='cases': use one of proceeding, case"),
        (dict(courts="SEA,S/E"), "courts: S/E is not a base-city code such as SEA"),
        (dict(min_completions="many"), "min_completions='many': not a whole number"),
        (dict(min_completions=-1), "min_completions=-1: must be 0 or more"),
        (dict(run="my run"), "RUN='my run': use letters, digits"),
        (dict(strat="2012-10-01"), "unknown parameter strat (known: release, start, end, "),
    ],
)
def test_a_bad_parameter_is_one_line_naming_it(overrides, message):
    with pytest.raises(ParameterError) as error:
        params.Run.from_parameters(**overrides)
    text = str(error.value)
    assert text.startswith(message) and "\n" not in text


# What each notebook declares: only what it uses (the runner passes exactly these).
WINDOW_AND_METHOD = {
    "start",
    "end",
    "pd_codes",
    "excluded_codes",
    "case_types",
    "unit",
    "courts",
    "min_completions",
    "definition",
    "dismissal_codes",
}
NOTEBOOK_PARAMETERS = {
    "02_rates.ipynb": WINDOW_AND_METHOD | {"processed_dir"},
    "04_validate.ipynb": WINDOW_AND_METHOD | {"processed_dir", "figures_dir"},
}


@pytest.mark.parametrize("name", sorted(NOTEBOOK_PARAMETERS))
def test_notebook_makes_its_run_from_exactly_the_parameters_it_declares(name):
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    declared = {}
    for node in ast.parse(code[0].source).body:
        declared[node.targets[0].id] = ast.literal_eval(node.value)
    assert set(declared) == NOTEBOOK_PARAMETERS[name]
    for key, value in declared.items():  # defaults that run the notebook by hand from notebooks/
        assert value == params.DEFAULTS.get(key, value), key
    assert declared["processed_dir"] == "../data/processed/default"
    calls = [
        node
        for node in ast.walk(ast.parse(code[1].source))
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "params.Run.from_parameters"
    ]
    assert len(calls) == 1
    assert {(k.arg, ast.unparse(k.value)) for k in calls[0].keywords} == {(k, k) for k in declared}
    for cell in code:
        assert cell.outputs == [] and cell.execution_count is None
        assert "parse_" not in cell.source  # nothing downstream re-parses a parameter string


def test_an_empty_excluded_codes_excludes_nothing_all_the_way_into_the_run(tmp_path):
    (tmp_path / "keep-ct.yaml").write_text('excluded_codes: ""\n')
    values = params.resolve(tmp_path / "keep-ct.yaml")  # what the runner hands the notebooks
    assert values["excluded_codes"] == ""
    run = params.Run.from_parameters(**{k: values[k] for k in params.DEFAULTS})
    assert run.method.excluded_codes == () and run.name == "keep-ct"
    assert params.Run.from_parameters(excluded_codes="").method.excluded_codes == ()
