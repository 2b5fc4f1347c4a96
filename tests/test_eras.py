"""Eras: the long view (long_run.csv), the guard and the run's warnings, on tiny hand-built releases
whose answers are worked out by hand in the comments."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from tiny_release import lookup_lines, proceeding, proceeding_line, write_release

from pdclosures import eras, ingest, params, release_format, run_record
from pdclosures.definition import Method, Window
from pdclosures.errors import ParameterError
from pdclosures.release import SYNTHETIC_MARKER, open_release, synthetic_scale_line

DECISIONS = [  # the same letter means different things in different case types: decoded, never hard-coded
    ("RMV", "Y", "Prosecutorial Discretion - Admin Close", "O"),
    ("RMV", "M", "In Court Prosecutorial Discretion - Admin Closure", "O"),
    ("RMV", "C", "Change of venue", "O"),
    ("RMV", "T", "Transfer", "O"),
    ("RMV", "U", "Dismissed by IJ", "C"),
    ("RMV", "X", "Removed", "C"),
    ("DEP", "D", "DISMISSED", "C"),
    ("EXC", "D", "Deny", "C"),
]
ROWS = [
    # February 2016: a Y closure (PD under both definitions) and an RMV dismissal (PD only as a dismissal).
    proceeding(1, comp="2016-02-10", other="Y"),
    proceeding(2, comp="2016-02-20", dec="U"),
    # March 2016: no completion (a month of the release all the same, with zero counts).
    # April 2016: a removal order, a DEP dismissal (PD as a dismissal), an EXC denial (D, but not a
    # dismissal in EXC), and a change of venue (not a completion at all).
    proceeding(3, comp="2016-04-05", dec="X"),
    proceeding(4, comp="2016-04-06", dec="D", case_type="DEP"),
    proceeding(5, comp="2016-04-07", dec="D", case_type="EXC"),
    proceeding(6, comp="2016-04-08", other="C"),
    # May 2016: an M closure on the release's last completion day; and a case still pending.
    proceeding(7, comp="2016-05-31", other="M"),
    proceeding(8, comp=""),
]
# month: (pd-closures PD, pd-dismissals PD, completions)
EXPECTED = {"2016-02": (1, 2, 2), "2016-03": (0, 0, 0), "2016-04": (0, 1, 3), "2016-05": (1, 1, 1)}


def decisions() -> list[str]:
    return lookup_lines(
        release_format.DECISION_TABLE,
        [
            {
                "idnCourtDecision": str(i),
                "strCaseType": case_type,
                "strDecCode": code,
                "strDecDescription": text,
                "strDecType": kind,
                "blnActive": "1",
                "datCreatedOn": "2011-07-01 00:00:00.000",
            }
            for i, (case_type, code, text, kind) in enumerate(DECISIONS, 1)
        ],
    )


def ingested(tmp_path, rows=ROWS, *, synthetic_scale=None) -> ingest.IngestResult:
    """A tiny release, ingested; with synthetic_scale, marked as a synthetic sample whose marker file
    states that scale, as the sample's does."""
    extra = None
    if synthetic_scale is not None:
        marker = f"synthetic\r\n\r\n{synthetic_scale_line(synthetic_scale)}\r\n"
        extra = {SYNTHETIC_MARKER: marker.encode()}
    release = write_release(
        tmp_path / "release.zip",
        [proceeding_line(r) for r in rows],
        zipped=True,
        lookups={release_format.DECISION_TABLE: decisions()},
        extra_files=extra,
    )
    return ingest.ingest_release(release, tmp_path / "interim", progress=False)


def test_long_run_has_every_month_of_the_release_under_both_definitions(tmp_path):
    result = ingested(tmp_path)
    # The run's own window and courts do not narrow the long view; only its method's codes count.
    table = eras.long_run(result, eras.methods_for_each_definition(Method(courts=("SEA",))))
    assert table.columns.tolist() == eras.LONG_RUN_COLUMNS
    expected = []
    for month, (closures, dismissals, completions) in EXPECTED.items():
        expected += [[month, "pd-closures", closures, completions], [month, "pd-dismissals", dismissals, completions]]
    assert table[["month", "definition", "pd_closures", "completions"]].values.tolist() == expected
    rates = table.set_index(["month", "definition"])
    assert rates.loc[("2016-04", "pd-dismissals"), "pd_rate"] == pytest.approx(1 / 3)
    assert rates.loc[("2016-02", "pd-dismissals"), ["pd_rate", "ci_high"]].tolist() == [1.0, 1.0]
    assert rates.loc[("2016-03", "pd-closures"), ["pd_rate", "ci_low", "ci_high"]].isna().all()  # no completions


def test_long_run_is_written_beside_the_run_tables_and_read_back(tmp_path):
    result = ingested(tmp_path)
    table = eras.long_run(result, eras.methods_for_each_definition(Method()))
    from pdclosures.rates import write_tables

    write_tables({"long_run": table}, tmp_path / "out")
    back = eras.read_long_run(tmp_path / "out")
    assert back[["month", "definition", "pd_closures", "completions"]].equals(
        table[["month", "definition", "pd_closures", "completions"]]
    )
    summary = eras.era_summary(back)  # all four months fall in the first era
    assert summary[["era", "definition", "pd_closures", "completions"]].values.tolist() == [
        ["PD closures (OTHER_COMP Y, M, I)", "pd-closures", 2, 6],
        ["PD closures (OTHER_COMP Y, M, I)", "pd-dismissals", 4, 6],
    ]
    assert summary["pd_closures_a_month"].tolist() == [0.5, 1.0]  # 2 and 4 over four months


def test_release_window_runs_from_the_first_to_the_last_completion_month():
    window = eras.release_window({"data_from": "2011-10-03", "data_through": "2025-12-09"})
    assert window == Window(dt.date(2011, 10, 1), dt.date(2025, 12, 31))
    assert eras.release_window({"data_from": None, "data_through": None}) is None


# --- The guard -----------------------------------------------------------------------------

# Completions from 2016-02-10 to 2016-05-31: the window below covers 112 days of them,
# 112 / (365.2425 / 12) = 3.6797 months; 100 a month is 367.97 PD closures in all.
MANIFEST = {"data_from": "2016-02-10", "data_through": "2016-05-31"}
SPRING_2016 = Window(dt.date(2016, 2, 1), dt.date(2016, 5, 31))


def test_the_guard_warns_below_the_line_and_is_silent_above():
    (below,) = eras.guard(367, SPRING_2016, "pd-closures", 100, MANIFEST)
    assert below.startswith("warning: 99.7 PD closures a month under pd-closures in 2016-02-01 to 2016-05-31 ")
    assert "fewer than 100 a month, TRAC's line (min_pd_per_month)" in below
    assert "not a finding" in below and "choose a window or definition" in below and "\n" not in below
    assert eras.guard(368, SPRING_2016, "pd-closures", 100, MANIFEST) == []
    assert eras.guard(0, SPRING_2016, "pd-closures", 0, MANIFEST) == []  # 0 turns it off
    # A window outside the release's dates: no months to average over (the coverage warning says so).
    assert eras.guard(0, Window(dt.date(2019, 1, 1), dt.date(2019, 12, 31)), "pd-closures", 100, MANIFEST) == []


def test_a_window_after_may_2021_with_pd_closures_is_told_to_use_pd_dismissals():
    manifest = {"data_from": "2021-01-01", "data_through": "2023-09-30"}
    fy2023 = Window(dt.date(2022, 10, 1), dt.date(2023, 9, 30))
    (few,) = eras.guard(12, fy2023, "pd-closures", 100, manifest)
    assert few.endswith("rerun with DEFINITION=pd-dismissals")
    (many,) = eras.guard(12_000, fy2023, "pd-closures", 100, manifest)  # codes in use, still the wrong ones
    assert "reaches past May 2021" in many and many.endswith("(see figure 08_long_run)") and "\n" not in many
    assert eras.guard(12_000, fy2023, "pd-dismissals", 100, manifest) == []
    spring_2021 = Window(dt.date(2021, 1, 1), dt.date(2021, 5, 31))
    assert eras.guard(12_000, spring_2021, "pd-closures", 100, manifest) == []


def test_on_the_synthetic_sample_the_line_is_divided_by_its_scale(tmp_path):
    result = ingested(tmp_path, synthetic_scale=100)
    assert result.synthetic and result.scale == 100 and result.manifest["scale"] == 100
    # The sample is a 1:100 model: the line is 1 PD closure a month, 3.68 in the window.
    (below,) = eras.guard(3, SPRING_2016, "pd-closures", 100, result.manifest, result.scale)
    assert "fewer than 1 a month: TRAC's line of 100 (min_pd_per_month) divided by 100" in below
    assert "1:100 model" in below and below.startswith("warning: 0.8 PD closures a month")
    assert eras.guard(4, SPRING_2016, "pd-closures", 100, result.manifest, result.scale) == []


def test_a_release_without_a_stated_scale_is_full_scale(tmp_path):
    assert ingested(tmp_path / "real").scale == 1
    unstated = write_release(
        tmp_path / "unstated.zip",
        [proceeding_line(r) for r in ROWS],
        zipped=True,
        extra_files={SYNTHETIC_MARKER: b"synthetic, no scale line"},
    )
    result = ingest.ingest_release(unstated, tmp_path / "interim", progress=False)
    assert result.synthetic and result.scale == 1


def test_run_warnings_count_every_court_under_the_run_definition(tmp_path):
    from pdclosures.rates import RateCalculator

    result = ingested(tmp_path)
    run = params.Run.from_parameters(start="2016-02-01", end="2016-05-31", courts="TUC", processed_dir=tmp_path)
    calculator = RateCalculator(result, run.window, run.method)
    # Two PD closures in the whole release, none in TUC: counted everywhere, 2 / 3.68 = 0.5 a month.
    (warning,) = eras.run_warnings(run, result, calculator)
    assert warning.startswith("warning: 0.5 PD closures a month under pd-closures")
    outside = params.Run.from_parameters(start="2019-01-01", end="2019-12-31", processed_dir=tmp_path)
    (coverage,) = eras.run_warnings(outside, result, RateCalculator(result, outside.window, outside.method))
    assert "lies outside the release's completion dates" in coverage


def test_warnings_go_into_run_json(tmp_path):
    result = ingested(tmp_path)
    processed = tmp_path / "processed"
    processed.mkdir()
    lines = eras.guard(2, SPRING_2016, "pd-closures", 100, result.manifest)
    eras.write_warnings(lines, processed)
    assert eras.read_warnings(processed) == lines and len(lines) == 1
    values = params.resolve(start="2016-02-01", end="2016-05-31")
    record = json.loads(
        run_record.write_run_json(processed, values, tmp_path / "release.zip", result, {"total": 1.0}).read_text()
    )
    assert record["warnings"] == lines
    assert record["parameters"]["min_pd_per_month"] == 100
    assert eras.read_warnings(tmp_path / "nowhere") == []  # a run from before the guard


def test_min_pd_per_month_is_a_parameter_checked_in_one_line():
    assert params.Run.from_parameters(min_pd_per_month="50").min_pd_per_month == 50
    assert params.resolve(min_pd_per_month="0")["min_pd_per_month"] == 0
    for value, message in (("lots", "not a whole number"), (-1, "must be 0 or more")):
        with pytest.raises(ParameterError, match=f"^min_pd_per_month=.*{message}"):
            params.Run.from_parameters(min_pd_per_month=value)


def test_policy_dates_run_through_2025_each_with_a_source():
    dates = eras.read_policy_dates()
    assert dates["date"].is_monotonic_increasing and dates["date"].dt.year.max() == 2025
    assert dates["source_url"].str.match(r"^https?://").all() and (dates["label"] != "").all()
    named = {day.date().isoformat(): label for day, label in zip(dates["date"], dates["label"])}
    for day, word in {
        "2014-11-20": "Johnson",
        "2017-01-25": "13768",
        "2018-05-17": "Castro-Tum",
        "2021-05-27": "Trasviña",
        "2021-07-15": "Cruz-Valdez",
        "2021-09-30": "Mayorkas",
        "2022-04-03": "Doyle",
        "2022-04-25": "Doyle",
    }.items():
        assert word in named[day], day
    assert pd.Timestamp("2025-01-20") in set(dates["date"])


def test_a_release_that_cannot_decode_dismissals_has_a_long_view_of_pd_closures(tmp_path):
    release = write_release(tmp_path / "release.zip", [proceeding_line(r) for r in ROWS], zipped=True)  # O rows only
    result = ingest.ingest_release(release, tmp_path / "interim", progress=False)
    table = eras.long_run(result, eras.methods_for_each_definition(Method()))
    assert set(table["definition"]) == {"pd-closures"} and len(table) == 4
    (reason,) = table.attrs["skipped"].values()
    assert "tblLookupCourtDecision" in reason and "\n" not in reason


def test_the_sample_states_its_scale_in_its_marker_as_in_its_manifest():
    stated = json.loads((params.PROJECT_ROOT / "data" / "sample" / "sample_manifest.json").read_text())["scale"]
    for zip_name in ("eoir_synthetic_sample.zip", "eoir_synthetic_sample_later.zip"):  # the later: the same model
        assert open_release(params.PROJECT_ROOT / "data" / "sample" / zip_name).synthetic_scale == stated > 1


SAMPLE = params.PROJECT_ROOT / params.SAMPLE_RELEASE


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    return ingest.ingest_release(SAMPLE, tmp_path_factory.mktemp("interim"), progress=False)


def test_the_samples_planted_long_run_is_recovered_every_month_under_both_definitions(sample):
    truth = json.loads(SAMPLE.with_name("sample_manifest.json").read_text())["truth"]["long_run"]
    table = eras.long_run(sample, eras.methods_for_each_definition(Method()))
    assert table.attrs["skipped"] == {}
    for name in ("pd-closures", "pd-dismissals"):
        rows = table[table["definition"] == name]
        found = {
            month: {"pd_closures": int(pd_closures), "completions": int(completions)}
            for month, pd_closures, completions in zip(rows["month"], rows["pd_closures"], rows["completions"])
        }
        assert found == truth[name], name
    # FY2012 to FY2025, every month: the three eras and the months after January 2025.
    assert (table["month"].iloc[0], table["month"].iloc[-1], len(table)) == ("2011-10", "2025-09", 2 * 168)


@pytest.mark.parametrize(
    "preset, expected",
    [
        ("feb-jun-2016", None),  # report 474: around 2,400 a month (divided by the sample's scale)
        ("feb-jun-2017", "these codes were barely in use"),  # fewer than 100 a month (divided by it too)
        ("doyle", None),  # pd-dismissals in the Doyle memo's months
        ("fy2023-dismissals", None),
    ],
)
def test_on_the_sample_the_guard_warns_where_report_474_says_pd_was_not_used(sample, preset, expected):
    from pdclosures.rates import RateCalculator

    values = params.resolve(params.PROJECT_ROOT / "params" / f"{preset}.yaml")
    run = params.Run.from_parameters(**{k: values[k] for k in params.DEFAULTS})
    found = eras.run_warnings(run, sample, RateCalculator(sample, run.window, run.method))
    if expected is None:
        assert found == []
    else:
        (warning,) = found
        scale = json.loads(SAMPLE.with_name("sample_manifest.json").read_text())["scale"]
        assert expected in warning and f"the synthetic sample is a 1:{scale:g} model" in warning


def test_on_the_sample_fy2018_warns_and_fy2023_with_pd_closures_is_told_to_use_pd_dismissals(sample):
    from pdclosures.rates import RateCalculator

    for start, end, advice in (
        ("2017-10-01", "2018-09-30", "choose a window or definition where PD was in use"),
        ("2022-10-01", "2023-09-30", "rerun with DEFINITION=pd-dismissals"),
    ):
        run = params.Run.from_parameters(start=start, end=end)
        (warning,) = eras.run_warnings(run, sample, RateCalculator(sample, run.window, run.method))
        assert advice in warning
