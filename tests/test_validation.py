"""Validation against TRAC's published figures, and sensitivity to the definition, with known answers."""

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from tiny_release import lookup_lines, lookup_tables, proceeding, proceeding_line, write_release

from pdclosures import ingest, params, rates, release_format, validation
from pdclosures.errors import ReleaseError
from pdclosures.validation import FAIL, NOT_COMPUTABLE, PASS, check

WINDOW = params.parse_window("2012-10-01", "2014-03-31")


# --------------------------------------------------------------------------------------------
# The pass/fail rule for one figure


@pytest.mark.parametrize(
    "computed, status",
    [
        (6.7, PASS),
        (6.74, PASS),
        (6.65, PASS),
        (6.75, PASS),  # rounds to 6.7 (6.65, 6.75: half a unit away)
        (6.76, FAIL),
        (6.64, FAIL),
        (8.5, FAIL),
        (None, FAIL),
        (float("nan"), FAIL),
    ],
)
def test_one_decimal_percentage_passes_when_it_rounds_to_the_published_value(computed, status):
    assert check("pd_rate_pct", "6.7", computed)[0] == status


def test_difference_and_tolerance_of_a_percentage():
    status, difference, tolerance = check("pd_rate_pct", "6.7", 6.74)
    assert difference == pytest.approx(0.04) and tolerance.startswith("±0.05")
    assert check("pd_rate_pct", "7.0", 6.96)[0] == PASS and check("pd_rate_pct", "7.0", 7.06)[0] == FAIL
    assert check("pd_rate_pct", "30", 30.4)[0] == PASS and check("pd_rate_pct", "30", 30.6)[0] == FAIL


@pytest.mark.parametrize(
    "computed, status",
    [(30.0, PASS), (27.6, PASS), (32.5, PASS), (27.5, PASS), (27.4, FAIL), (32.6, FAIL), (6.7, FAIL)],
)
def test_about_a_value_passes_within_two_and_a_half_points(computed, status):
    assert check("pd_rate_pct_approx", "30", computed)[0] == status


@pytest.mark.parametrize(
    "computed, status, difference",
    [
        (3.5, PASS, 0.0),
        (3.0, PASS, 0.0),
        (4.0, PASS, 0.0),
        (2.95, PASS, -0.05),
        (4.04, PASS, 0.04),  # round to 3.0 and 4.0
        (2.94, FAIL, -0.06),
        (4.06, FAIL, 0.06),
        (8.0, FAIL, 4.0),
    ],
)
def test_range_passes_when_the_one_decimal_rounding_is_inside(computed, status, difference):
    result = check("pd_rate_pct_range", "3-4", computed)
    assert result[0] == status and result[1] == pytest.approx(difference)


@pytest.mark.parametrize("computed, status", [(0.0, PASS), (2.99, PASS), (3.0, FAIL), (3.01, FAIL)])
def test_range_from_zero_means_less_than(computed, status):
    status_, _, tolerance = check("pd_rate_pct_range", "0-3", computed)
    assert status_ == status and tolerance == "< 3"


def test_counts_pass_only_on_exact_equality():
    assert check("pd_closures", "9684", 9684)[0] == PASS
    assert check("pd_closures", "9684", 9685)[:2] == (FAIL, 1.0)
    assert check("all_closures", "206330", 206329.9)[0] == FAIL
    assert check("pending_at_start", "298173", 298173)[0] == PASS


def test_unknown_metric_is_refused():
    with pytest.raises(ValueError, match="unknown metric"):
        check("pd_share", "3", 3.0)


# --------------------------------------------------------------------------------------------
# Matching published figures to a run's tables


def figure(metric, value, start="2012-10-01", end="2014-03-31", geography="national"):
    return {
        "source": "test",
        "url": "https://example.org",
        "published": "2014-04-24",
        "window_start": start,
        "window_end": end,
        "geography": geography,
        "metric": metric,
        "value": value,
        "note": "",
    }


NATIONAL = pd.DataFrame({"start": ["2012-10-01"], "end": ["2014-03-31"], "pd_closures": [674], "completions": [10000]})
COURTS = pd.DataFrame(
    {"base_city_code": ["TUC", "SEA", "HOU"], "pd_closures": [29, 31, 2], "completions": [100, 100, 100]}
)
FISCAL_YEARS = pd.DataFrame(
    {
        "fiscal_year": [2013, 2014],
        "period_start": ["2012-10-01", "2013-10-01"],
        "period_end": ["2013-09-30", "2014-03-31"],
        "partial": [False, True],
        "pd_closures": [500, 174],
        "completions": [6000, 4000],
    }
)
MONTHS = pd.DataFrame({"month": [p.strftime("%Y-%m") for p in pd.period_range("2012-10", "2014-03", freq="M")]})
MONTHS["pd_closures"] = [10 * (i + 1) for i in range(18)]
MONTHS["completions"] = 500


def run_compare(*figures_, **kwargs):
    published = pd.DataFrame(list(figures_))
    return validation.compare(
        published, WINDOW, NATIONAL, courts=COURTS, fiscal_years=FISCAL_YEARS, months=MONTHS, **kwargs
    )


def test_national_figures_for_the_run_window():
    out = run_compare(
        figure("pd_rate_pct", "6.7"),
        figure("pd_rate_pct", "6.8"),
        figure("pd_closures", "674"),
        figure("all_closures", "10000"),
        figure("all_closures", "10001"),
    )
    assert out["status"].tolist() == [PASS, FAIL, PASS, PASS, FAIL]
    assert out["computed_value"].tolist()[:3] == pytest.approx([6.74, 6.74, 674])
    assert set(out["basis"]) == {"national.csv"}
    assert list(out.columns[:12]) == [
        "source",
        "url",
        "published",
        "window_start",
        "window_end",
        "geography",
        "metric",
        "published_value",
        "computed_value",
        "difference",
        "tolerance",
        "status",
    ]


def test_court_figures():
    out = run_compare(
        figure("pd_rate_pct_approx", "30", geography="court:TUC"),
        figure("pd_rate_pct_approx", "30", geography="court:SEA"),
        figure("pd_rate_pct_range", "0-3", geography="court:HOU"),
        figure("pd_rate_pct_range", "3-4", geography="court:HOU"),
        figure("pd_rate_pct", "5.0", geography="court:BUF"),  # no completions there
        figure("pd_rate_pct", "29.0", "2011-10-01", "2013-12-31", geography="court:TUC"),
    )
    assert out["status"].tolist() == [PASS, PASS, PASS, FAIL, FAIL, NOT_COMPUTABLE]
    assert out["basis"].tolist()[:2] == ["courts.csv TUC", "courts.csv SEA"]
    assert out.loc[4, "detail"].startswith("no completions")


def test_fiscal_years_and_whole_months_inside_the_window():
    out = run_compare(
        figure("pd_closures", "500", "2012-10-01", "2013-09-30"),  # FY2013
        figure("pd_rate_pct", "4.4", "2013-10-01", "2014-03-31"),  # clipped FY2014: 174/4000
        figure("pd_closures", "70", "2012-12-01", "2013-01-31"),  # months 3 and 4: 30 + 40
        figure("all_closures", "500", "2013-02-01", "2013-02-28"),
    )  # one month
    assert out["status"].tolist() == [PASS, PASS, PASS, PASS]
    assert out["basis"].tolist() == [
        "fiscal_years.csv FY2013",
        "fiscal_years.csv FY2014 (part in window)",
        "months.csv 2012-12..2013-01",
        "months.csv 2013-02",
    ]


def test_windows_the_run_cannot_compute():
    out = run_compare(
        figure("pd_rate_pct", "4.7", "2011-10-01", "2012-09-30"),  # before the run
        figure("pd_closures", "1", "2012-12-15", "2013-01-31"),  # not whole months
        figure("pd_rate_pct", "8.3", "2014-03-01", "2014-04-30"),  # runs past the end
        figure("pd_rate_pct", "6.7", "2012-10-01", "2014-03-30"),
    )  # one day short
    assert set(out["status"]) == {NOT_COMPUTABLE}
    assert out["detail"].str.startswith("not computable for this window").all()
    assert out["computed_value"].isna().all()


def test_court_restricted_run_cannot_check_national_figures():
    out = run_compare(
        figure("pd_rate_pct", "6.7"),
        figure("pd_rate_pct_approx", "30", geography="court:TUC"),
        figure("pd_rate_pct_approx", "30", geography="court:HOU"),
        restricted_courts=("TUC",),
    )
    assert out["status"].tolist() == [NOT_COMPUTABLE, PASS, NOT_COMPUTABLE]


def test_pending_figures_use_the_pending_at_start_counts():
    pending = {"pd_closures": 2609, "completions": 298173}
    out = run_compare(
        figure("pending_at_start", "298173", end="2012-03-28"),  # depends on the start only
        figure("pd_rate_pct_of_pending_range", "0-1"),
        figure("pd_rate_pct_of_pending", "1.5"),
        figure("pd_rate_pct_of_pending", "0.9", end="2014-03-30"),
        pending=pending,
    )
    assert out["status"].tolist() == [PASS, PASS, FAIL, NOT_COMPUTABLE]
    assert out.loc[1, "computed_value"] == pytest.approx(100 * 2609 / 298173)
    assert run_compare(figure("pending_at_start", "298173"))["status"].tolist() == [NOT_COMPUTABLE]


def test_project_table_of_published_figures():
    published = validation.load_published()
    assert len(published) >= 45
    assert published["url"].str.startswith("http").all()
    key = published.set_index(["source", "window_start", "window_end", "geography", "metric"])["value"]
    assert key[("TRAC bulletin", "2012-10-01", "2014-03-31", "national", "pd_rate_pct")] == "6.7"
    assert key[("TRAC report 339 Table 1", "2011-10-01", "2013-12-31", "national", "all_closures")] == "440949"
    assert key[("TRAC bulletin", "2012-10-01", "2014-03-31", "court:HOU", "pd_rate_pct_range")] == "0-3"
    for row in published.itertuples():  # every value is checkable by its rule
        check(row.metric, row.value, 1.0)


def test_formatting_for_the_csv():
    out = validation.format_validation(
        run_compare(
            figure("pd_closures", "674"),
            figure("pd_rate_pct", "6.7"),
            figure("pd_rate_pct", "4.7", "2011-10-01", "2012-09-30"),
        )
    )
    assert out["computed_value"].tolist() == ["674", "6.740", ""]
    assert out["difference"].tolist() == ["0", "0.040", ""]


# --------------------------------------------------------------------------------------------
# Sensitivity on a tiny release with hand-counted answers (window 2012-10-01..2014-03-31)

ROWS = [
    proceeding(1, case=1, court="SEA", comp="2012-11-01", other="Y", INPUT_DATE="2012-05-01 00:00:00.000"),
    proceeding(2, case=2, court="SEA", comp="2013-02-01", other="M", INPUT_DATE="2013-01-10 00:00:00.000"),
    proceeding(3, case=3, court="TUC", comp="2013-03-01", other="C", INPUT_DATE="2011-05-01 00:00:00.000"),
    proceeding(4, case=3, court="TUC", comp="2013-09-01", other="I", INPUT_DATE="2013-03-02 00:00:00.000"),
    proceeding(
        5, case=5, court="HOU", comp="2013-05-05", dec="X", case_type="DEP", INPUT_DATE="2010-01-01 00:00:00.000"
    ),
    proceeding(
        6, case=6, court="HOU", comp="2013-06-06", other="T", case_type="EXC", INPUT_DATE="2012-02-02 00:00:00.000"
    ),
    proceeding(
        7, case=6, court="HOU", comp="2014-01-10", other="Y", case_type="EXC", INPUT_DATE="2013-06-07 00:00:00.000"
    ),
    proceeding(
        8, case=8, court="NYC", comp="2013-07-07", other="A", case_type="CFR", INPUT_DATE="2012-03-03 00:00:00.000"
    ),
    proceeding(9, case=9, court="NYC", comp="", INPUT_DATE="2011-01-01 00:00:00.000"),  # still pending
    proceeding(10, case=10, court="NYC", comp="2012-09-15", other="Y", INPUT_DATE="2011-01-01 00:00:00.000"),
    proceeding(11, case=11, court="SEA", comp="2014-05-01", other="Y", INPUT_DATE="2012-06-01 00:00:00.000"),
    proceeding(
        12,
        case=12,
        court="SEA",
        comp="2013-04-04",
        other="Y",
        INPUT_DATE="",  # OSC_DATE stands in
        OSC_DATE="2012-04-04 00:00:00.000",
    ),
    proceeding(13, case=13, court="SEA", comp="2013-08-08", dec="X", INPUT_DATE="", OSC_DATE=""),  # no start date
    proceeding(14, case=1, court="SEA", comp="2013-12-12", dec="X", INPUT_DATE="2012-11-20 00:00:00.000"),
    proceeding(
        15,
        case=15,
        court="TUC",
        comp="2013-01-20",
        other="Y",
        INPUT_DATE="1899-01-01 00:00:00.000",
        OSC_DATE="2012-12-01 00:00:00.000",
    ),  # junk date -> null
]
# Completions in the window without C/T: 1, 2, 4, 5, 7, 8, 12, 13, 14, 15 (10); PD: 1, 2, 4, 7, 12, 15 (6).
# Pending at 2012-10-01: 1, 3, 5, 6, 8, 9, 11, 12 (8); of these closed by PD in the window: 1, 12 (2).
EXPECTED = {
    "default": (6, 10),
    "unit=case": (5, 9),  # cases 1 (last: 14, not PD), 2, 3, 5, 6, 8, 12, 13, 15
    "pd_codes=Y": (4, 10),
    "pd_codes=Y,M": (5, 10),
    "excluded_codes=none": (6, 12),  # 3 (C) and 6 (T) back in
    "case_types=RMV,DEP,EXC": (6, 9),  # 8 (CFR) out
    "definition=pd-dismissals": (6, 10),  # no completion here has a dismissal DEC_CODE (RMV U)
    "pd_codes+F": (6, 10),
    "pd_codes+A": (7, 10),  # 8
    "pd_codes+K": (6, 10),
    "basis=eoir-completions": (0, 3),  # decisions only: 5 (DEP X), 13 and 14 (RMV X)
    "pending_at_start": (2, 8),
}
# The default decision lookup and one DEC_CODE row that says dismissed, so pd-dismissals can decode.
DECISIONS = (
    lookup_tables()[release_format.DECISION_TABLE]
    + lookup_lines(
        release_format.DECISION_TABLE,
        [
            {
                "idnCourtDecision": "9",
                "strCaseType": "RMV",
                "strDecCode": "U",
                "strDecType": "C",
                "strDecDescription": "Dismissed by IJ",
            }
        ],
    )[1:]
)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("validation")
    release = write_release(
        tmp / "release", [proceeding_line(r) for r in ROWS], lookups={release_format.DECISION_TABLE: DECISIONS}
    )
    return ingest.ingest_release(release, tmp / "interim", progress=False)


@pytest.fixture(scope="module")
def sens(ingested):
    return validation.sensitivity(ingested, WINDOW)


def test_each_definition_on_hand_counted_data(sens):
    got = {row.definition: (row.pd_closures, row.completions) for row in sens.itertuples()}
    assert got == EXPECTED
    assert sens["is_default"].tolist() == [True] + [False] * (len(EXPECTED) - 1)
    assert list(sens.columns[:4]) == ["definition", "is_default", "label", "denominator"]
    for column in ["pd_closures", "completions", "pd_rate", "ci_low", "ci_high", "description"]:
        assert column in sens.columns
    pending = sens.set_index("definition").loc["pending_at_start"]
    assert pending["denominator"] == "proceedings pending at start"
    assert pending["pd_rate"] == pytest.approx(0.25)
    low, high = rates.wilson_interval([2], [8])
    assert (pending["ci_low"], pending["ci_high"]) == (pytest.approx(low[0]), pytest.approx(high[0]))


def test_default_row_equals_national(ingested, sens):
    national = rates.RateCalculator(ingested, WINDOW, rates.Method()).national().iloc[0]
    default = sens[sens["is_default"]].iloc[0]
    for column in ["start", "end", "pd_closures", "completions", "pd_rate", "ci_low", "ci_high"]:
        assert default[column] == national[column], column


def test_default_row_equals_national_for_a_non_default_method(ingested):
    method = params.parse_method("Y", "C,T", "RMV,DEP,EXC", "case")
    frame = validation.sensitivity(ingested, WINDOW, method)
    national = rates.RateCalculator(ingested, WINDOW, method).national().iloc[0]
    default = frame[frame["is_default"]].iloc[0]
    assert (default["pd_closures"], default["completions"]) == (national["pd_closures"], national["completions"])
    names = frame["definition"].tolist()
    assert names == [
        "default",
        "unit=proceeding",
        "pd_codes=Y,M",
        "pd_codes=Y,M,I",
        "excluded_codes=none",
        "case_types=all",
        "definition=pd-dismissals",
        "pd_codes+F",
        "pd_codes+A",
        "pd_codes+K",
        "basis=eoir-completions",
        "pending_at_start",
    ]
    # Cases pending at the start, removal types: 1, 3, 5, 6, 9, 11, 12; closed by Y in the window: 1, 12.
    assert tuple(frame.set_index("definition").loc["pending_at_start", ["pd_closures", "completions"]]) == (2, 7)


def test_pending_at_start_respects_court_and_case_type_filters(ingested):
    calc = rates.RateCalculator(ingested, WINDOW, rates.Method(courts=("SEA",)))
    row = validation.pending_at_start(calc).iloc[0]
    assert (row["pd_closures"], row["completions"]) == (2, 3)  # 1, 11, 12 pending at SEA; 1 and 12 PD
    calc = rates.RateCalculator(ingested, params.parse_window("2013-01-01", "2013-12-31"))
    row = validation.pending_at_start(calc).iloc[0]
    # Pending at 2013-01-01: 3, 5, 6, 8, 9, 11, 12, 14 (input 2012-11-20), 15 (OSC 2012-12-01); PD in 2013: 12, 15.
    assert (row["pd_closures"], row["completions"]) == (2, 9)


def test_closest_definition(sens):
    assert validation.closest_definition(sens, 50.0)["definition"] == "pd_codes=Y,M"
    assert validation.closest_definition(sens, 26.0)["definition"] == "pending_at_start"


def test_validate_run_reads_the_rates_tables(ingested, sens, tmp_path):
    rates.write_tables(rates.RateCalculator(ingested, WINDOW).all_tables(), tmp_path)
    published = pd.DataFrame(
        [
            figure("pd_rate_pct", "60.0"),
            figure("all_closures", "10"),
            figure("pd_rate_pct_approx", "60", geography="court:SEA"),
            figure("pd_closures", "5", "2012-10-01", "2013-09-30"),
            figure("pd_rate_pct_of_pending", "25.0"),
        ]
    )
    pending = sens[sens["definition"] == "pending_at_start"]
    out = validation.validate_run(tmp_path, WINDOW, published=published, pending=pending)
    # SEA: 1, 2, 12, 13, 14 complete; 1, 2, 12 PD: 60%. FY2013 PD: 1, 2, 4, 12, 15.
    assert out["status"].tolist() == [PASS] * 5
    path = validation.write_validation(out, tmp_path)
    assert pd.read_csv(path, dtype=str)["status"].tolist() == [PASS] * 5


def test_write_sensitivity(ingested, sens, tmp_path):
    path = validation.write_sensitivity(sens, tmp_path)
    again = pd.read_csv(path)
    assert again["definition"].tolist() == list(EXPECTED) and again["is_default"].tolist()[0]


def test_pd_code_first_months(ingested):
    frame = validation.pd_code_first_months(ingested)
    assert frame["fiscal_year"].tolist() == [2012, 2013, 2014]
    rows = frame.set_index("fiscal_year")
    assert rows.loc[2012, ["Y_first_month", "Y_closures", "M_first_month"]].tolist() == ["2012-09", 1, ""]
    assert rows.loc[2013, ["Y_first_month", "Y_closures"]].tolist() == ["2012-11", 3]
    assert rows.loc[2013, ["M_first_month", "I_first_month"]].tolist() == ["2013-02", "2013-09"]
    assert rows.loc[2014, ["Y_first_month", "Y_closures", "I_closures"]].tolist() == ["2014-01", 2, 0]
    lookup = validation.pd_code_lookup(ingested).set_index("code")
    assert lookup.loc["Y", "first_created"] == "2011-07-01"
    assert lookup.loc["M", "description"] == "(not in the lookup)"


def test_no_completions_gives_empty_rates_and_fails(ingested):
    window = params.parse_window("2020-01-01", "2020-12-31")
    frame = validation.sensitivity(ingested, window)
    assert frame["completions"].iloc[0] == 0 and math.isnan(frame["pd_rate"].iloc[0])
    assert validation.closest_definition(frame.iloc[:1], 5.0) is None


def test_for_reading_writes_counts_and_percentages_as_a_reader_expects():
    out = validation.for_reading(
        run_compare(
            figure("pd_closures", "674"),
            figure("all_closures", "10500"),
            figure("pd_rate_pct", "6.7"),
            figure("pd_rate_pct_approx", "30", geography="court:TUC"),
            figure("pd_rate_pct_range", "3-4", geography="court:HOU"),
            figure("pd_rate_pct_range", "0-3", geography="court:HOU"),
            figure("pd_rate_pct", "4.7", "2011-10-01", "2012-09-30"),
        )
    )
    assert out["published_value"].tolist() == ["674", "10,500", "6.7%", "about 30%", "3–4%", "under 3%", "4.7%"]
    # National 674 / 10,000; TUC 29 / 100; HOU 2 / 100.
    assert out["computed_value"].tolist() == ["674", "10,000", "6.74%", "29.00%", "2.00%", "2.00%", ""]
    assert out["difference"].tolist() == [
        "+0",
        "-500",
        "+0.04 points",
        "-1.00 points",
        "-1.00 points",
        "+0.00 points",
        "",
    ]


# --------------------------------------------------------------------------------------------
# The boundary day of the pending-at-start basis (window 2013-01-01..2013-12-31)

BOUNDARY_ROWS = [
    proceeding(1, comp="2013-06-01", other="Y", INPUT_DATE="2013-01-01 00:00:00.000"),  # input on the start day
    proceeding(2, comp="2012-12-31", other="Y", INPUT_DATE="2012-06-01 00:00:00.000"),  # completed the day before
    proceeding(3, comp="2013-01-01", other="Y", INPUT_DATE="2012-06-01 00:00:00.000"),  # completed on the start day
    proceeding(4, comp="", INPUT_DATE="2012-12-31 00:00:00.000"),  # input the day before, open
    proceeding(5, comp="2013-01-01", dec="X", INPUT_DATE="2012-06-01 00:00:00.000"),  # on the start day, not PD
    proceeding(6, comp="", INPUT_DATE="", OSC_DATE="2013-01-01 00:00:00.000"),  # OSC on the start day
    proceeding(7, comp="2014-01-01", other="Y", INPUT_DATE="", OSC_DATE="2012-12-31 00:00:00.000"),  # PD after
]


@pytest.fixture(scope="module")
def boundary(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("boundary")
    release = write_release(tmp / "release", [proceeding_line(r) for r in BOUNDARY_ROWS])
    ingested = ingest.ingest_release(release, tmp / "interim", progress=False)
    return rates.RateCalculator(ingested, params.parse_window("2013-01-01", "2013-12-31"))


def test_pending_at_start_on_the_boundary_day(boundary):
    # Pending when 2013-01-01 begins: 3 and 5 (completed on it), 4 (input the day before, still open),
    # 7 (OSC the day before; closed after the window). Not 1 (input on the start day), 2 (completed
    # the day before) or 6 (OSC on the start day). PD closures among them in the window: 3 only.
    row = validation.pending_at_start(boundary).iloc[0]
    assert (row["pd_closures"], row["completions"]) == (1, 4)
    assert row["pd_rate"] == pytest.approx(0.25)


# --------------------------------------------------------------------------------------------
# When the PD codes appear: counted over the whole cache, per fiscal year

TIMELINE_ROWS = [
    proceeding(1, comp="2011-08-15", other="Y"),  # FY2011
    proceeding(2, comp="2011-07-01", other="Y"),  # FY2011, the earlier month
    proceeding(3, comp="2012-03-10", other="M"),  # FY2012
    proceeding(4, comp="2012-05-01", other="C"),  # FY2012, not a PD code
    proceeding(5, comp="2013-10-01", other="Y"),  # the first day of FY2014 (FY2013 has no PD closure)
    proceeding(6, comp="2014-12-01", dec="X"),  # FY2015: the last completion, not PD
    proceeding(7, comp="", other="I"),  # no completion date: not counted
]


@pytest.fixture(scope="module")
def timeline_release(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("timeline")
    release = write_release(tmp / "release", [proceeding_line(r) for r in TIMELINE_ROWS])
    return ingest.ingest_release(release, tmp / "interim", progress=False)


def test_code_timeline_per_fiscal_year(timeline_release):
    frame = validation.pd_code_first_months(timeline_release)
    assert frame.columns.tolist() == [
        "fiscal_year",
        "Y_first_month",
        "Y_closures",
        "M_first_month",
        "M_closures",
        "I_first_month",
        "I_closures",
    ]
    assert frame.values.tolist() == [
        [2011, "2011-07", 2, "", 0, "", 0],
        [2012, "", 0, "2012-03", 1, "", 0],
        [2013, "", 0, "", 0, "", 0],
        [2014, "2013-10", 1, "", 0, "", 0],
        [2015, "", 0, "", 0, "", 0],
    ]
    with_c = validation.pd_code_first_months(timeline_release, ("Y", "C")).set_index("fiscal_year")
    assert with_c.loc[2012, ["C_first_month", "C_closures"]].tolist() == ["2012-05", 1]


def test_code_timeline_without_any_pd_code(tmp_path):
    release = write_release(tmp_path / "release", [proceeding_line(proceeding(1, dec="X"))])
    frame = validation.pd_code_first_months(ingest.ingest_release(release, tmp_path / "interim", progress=False))
    assert frame.empty and frame.columns.tolist()[:3] == ["fiscal_year", "Y_first_month", "Y_closures"]


# --------------------------------------------------------------------------------------------
# The kinds of check of issues 19 and 21: per month, "about" and "fewer than" counts, other totals,
# the backlog at the end, the eoir-completions basis, PD terminations, nationalities


@pytest.mark.parametrize(
    "metric, published, computed, status",
    [
        ("pd_closures_per_month_approx", "2400", 2400.0, PASS),
        ("pd_closures_per_month_approx", "2400", 2280.0, PASS),  # 5% below
        ("pd_closures_per_month_approx", "2400", 2520.0, PASS),  # 5% above
        ("pd_closures_per_month_approx", "2400", 2279.0, FAIL),
        ("pd_closures_per_month_approx", "2400", 2521.0, FAIL),
        ("pd_terminations_approx", "650", 682.0, PASS),
        ("pd_terminations_approx", "650", 683.0, FAIL),
        ("pd_closures_per_month_max", "100", 99.8, PASS),
        ("pd_closures_per_month_max", "100", 0.0, PASS),
        ("pd_closures_per_month_max", "100", 100.0, FAIL),  # "fewer than 100": 100 is not fewer
        ("pd_closures_per_month_max", "100", float("nan"), FAIL),
        ("all_dispositions", "84956", 84956, PASS),
        ("all_dispositions", "84956", 84955, FAIL),
        ("total_completions", "375842", 375842, PASS),
        ("eoir_total_completions", "186080", 186081, FAIL),
        ("pending_at_end", "305556", 305556, PASS),
        ("eoir_pending_at_end", "298228", 298228, PASS),
        ("pd_closures_per_month", "34", 34.0, PASS),
    ],
)
def test_new_kinds_of_check(metric, published, computed, status):
    assert check(metric, published, computed)[0] == status


def test_tolerances_and_differences_of_the_new_kinds():
    assert check("pd_closures_per_month_approx", "2400", 2460.0) == (PASS, 60.0, "±5% ('about': 2280 to 2520)")
    assert check("pd_closures_per_month_max", "100", 40.0) == (PASS, -60.0, "< 100")
    assert check("pd_rate_pct_max", "3", 2.9)[0] == PASS  # the form works for percentages too


@pytest.mark.parametrize("metric", ["all_closures_range", "pd_closures_per_week", "pending_at_end_between"])
def test_metrics_that_do_not_exist_are_refused(metric):
    with pytest.raises(ValueError, match="unknown metric"):
        validation.parse_metric(metric)


def test_per_month_figures_average_over_the_calendar_months():
    out = run_compare(
        figure("pd_closures_per_month_approx", "70", "2013-02-01", "2013-06-30"),  # 50..90: 350 / 5
        figure("pd_closures_per_month_approx", "75", "2013-02-01", "2013-06-30"),  # 70 is 6.7% off
        figure("pd_closures_per_month_max", "71", "2013-02-01", "2013-06-30"),
        figure("pd_closures_per_month_max", "70", "2013-02-01", "2013-06-30"),
        figure("pd_closures_per_month_approx", "37", "2012-10-01", "2014-03-31"),  # the run: 674 / 18
        figure("pd_closures_per_month_max", "42", "2012-10-01", "2013-09-30"),  # FY2013: 500 / 12
        figure("pd_closures_per_month_max", "100", "2013-02-15", "2013-06-30"),  # not whole months
        figure("pd_closures_per_month_max", "100", "2016-02-01", "2016-06-30"),  # another window
    )
    assert out["status"].tolist() == [PASS, FAIL, PASS, FAIL, PASS, PASS, NOT_COMPUTABLE, NOT_COMPUTABLE]
    assert out["computed_value"].tolist()[:6] == pytest.approx([70, 70, 70, 70, 674 / 18, 500 / 12])
    assert out["basis"].tolist()[:6] == ["months.csv 2013-02..2013-06"] * 4 + [
        "national.csv",
        "fiscal_years.csv FY2013",
    ]
    assert out.loc[6, "detail"] == "a figure per month needs a window of whole calendar months"
    assert out.loc[7, "detail"].startswith("not computable for this window")


def test_dispositions_and_total_completions_are_completions_under_the_run_method():
    out = run_compare(
        figure("all_dispositions", "10000"),
        figure("total_completions", "6000", "2012-10-01", "2013-09-30"),
        figure("total_completions", "1000", "2013-02-01", "2013-03-31"),  # two months of 500
        figure("all_dispositions", "9999"),
    )
    assert out["status"].tolist() == [PASS, PASS, PASS, FAIL]
    assert out["basis"].tolist() == ["national.csv", "fiscal_years.csv FY2013", "months.csv 2013-02..2013-03"] + [
        "national.csv"
    ]


def basis(pd_closures, completions):
    """national, fiscal_years and months tables of another basis, for the window of WINDOW."""
    national = NATIONAL.assign(pd_closures=pd_closures, completions=completions)
    years = FISCAL_YEARS.assign(pd_closures=[pd_closures - 1, 1], completions=[completions - 100, 100])
    months = MONTHS.assign(pd_closures=0, completions=completions // 18)
    return {"national": national, "fiscal_years": years, "months": months}


EXTRA = validation.ExtraCounts(
    eoir=basis(0, 9000),
    terminations=basis(25, 10000),
    pending_at={WINDOW.start: 700, WINDOW.end + pd.Timedelta(days=1).to_pytimedelta(): 800},
    eoir_pending_at={WINDOW.start: 650, WINDOW.end + pd.Timedelta(days=1).to_pytimedelta(): 760},
)


def test_eoir_basis_terminations_and_the_backlog_at_the_end():
    out = run_compare(
        figure("eoir_total_completions", "9000"),
        figure("eoir_total_completions", "8900", "2012-10-01", "2013-09-30"),  # FY2013 on that basis
        figure("eoir_total_completions", "10000"),  # the run's own completions are not the EOIR basis
        figure("pd_terminations_approx", "26"),
        figure("pd_terminations_approx", "30"),
        figure("pending_at_end", "800", "2014-03-31", "2014-03-31"),  # the window's last day
        figure("pending_at_end", "700", "2012-09-30", "2012-09-30"),  # the day before the start
        figure("eoir_pending_at_end", "760", "2014-03-31", "2014-03-31"),
        figure("eoir_pending_at_end", "700", "2012-09-30", "2012-09-30"),
        figure("pending_at_end", "800", "2013-12-31", "2013-12-31"),  # another day
        extra=EXTRA,
    )
    assert out["status"].tolist() == [PASS, PASS, FAIL, PASS, FAIL, PASS, PASS, PASS, FAIL, NOT_COMPUTABLE]
    assert out["basis"].tolist()[:6] == [
        "eoir-completions basis, national",
        "eoir-completions basis, fiscal_years FY2013",
        "eoir-completions basis, national",
        "OTHER_COMP I only, national",
        "OTHER_COMP I only, national",
        "proceedings pending at the end of 2014-03-31",
    ]
    assert out.loc[7, "basis"] == "eoir-completions basis: proceedings pending at the end of 2014-03-31"
    assert "ends on 2013-12-31" in out.loc[9, "detail"]


def test_figures_of_other_bases_without_their_counts_are_not_computable():
    out = run_compare(
        figure("eoir_total_completions", "9000"),
        figure("pd_terminations_approx", "26"),
        figure("pending_at_end", "800", "2014-03-31", "2014-03-31"),
    )
    assert set(out["status"]) == {NOT_COMPUTABLE}
    assert out["detail"].tolist() == [
        "eoir-completions basis counts not given",
        "OTHER_COMP I only counts not given",
        "pending counts not given",
    ]
    # A release without any I code says so rather than failing with zero.
    no_code = validation.ExtraCounts(eoir=basis(0, 9000))
    out = run_compare(figure("pd_terminations_approx", "26"), extra=no_code)
    assert out.loc[0, "status"] == NOT_COMPUTABLE and "occurs nowhere in this release" in out.loc[0, "detail"]


BY_NATIONALITY = pd.DataFrame(
    {
        "nat": ["MX", "CH", "KS", "XX", ""],
        "nationality": ["MEXICO", "CHINA", "SOUTH KOREA", "(unknown code XX)", "(no nationality code)"],
        "pending_at_start": [1000, 300, 50, 3, 2],
        "pd_closures": [29, 1, 2, 0, 0],
    }
)


def test_nationality_figures_on_the_pending_at_start_basis():
    extra = validation.ExtraCounts(by_nationality=BY_NATIONALITY)
    out = run_compare(
        figure("pd_closures", "29", geography="nationality:MX"),  # by code
        figure("pd_rate_pct_of_pending", "2.9", geography="nationality:Mexico"),  # by name, any case
        figure("pending_at_start", "300", end="2012-12-31", geography="nationality:China"),  # the start is enough
        figure("pd_rate_pct_of_pending", "0.2", geography="nationality:china"),  # 1 / 300 = 0.33%
        figure("pd_rate_pct_of_pending", "4.0", geography="nationality:South  Korea"),
        figure("pd_closures", "29", "2011-10-01", "2012-06-28", geography="nationality:MX"),  # another window
        figure("pd_rate_pct", "2.9", geography="nationality:MX"),  # not on the pending basis
        figure("pd_closures", "1", geography="nationality:Atlantis"),
        figure("pd_closures", "1", geography="nationality:unknown code XX"),  # a label, not a name
        extra=extra,
    )
    assert out["status"].tolist() == [PASS, PASS, PASS, FAIL, PASS] + [NOT_COMPUTABLE] * 4
    assert out.loc[0, "basis"] == "pending at 2012-10-01 by nationality: MX (MEXICO)"
    assert out["computed_value"].tolist()[:5] == pytest.approx([29, 2.9, 300, 100 / 300, 4.0])
    assert out.loc[5, "detail"].startswith("not computable for this window")
    assert out.loc[6, "detail"].startswith("nationality figures are checked on the pending-at-start basis only")
    assert out.loc[7, "detail"] == "nationality 'Atlantis' is neither a NAT code nor a NAT_NAME in tblLookupNationality"
    assert "neither a NAT code" in out.loc[8, "detail"]


def test_nationality_figures_need_the_counts_and_all_courts():
    missing = validation.ExtraCounts(nationality_note="the cache has no NAT column")
    out = run_compare(figure("pd_closures", "29", geography="nationality:MX"), extra=missing)
    assert (out.loc[0, "status"], out.loc[0, "detail"]) == (NOT_COMPUTABLE, "the cache has no NAT column")
    out = run_compare(figure("pd_closures", "29", geography="nationality:MX"))
    assert out.loc[0, "detail"] == "pending counts by nationality not given"
    out = run_compare(
        figure("pd_closures", "29", geography="nationality:MX"),
        extra=validation.ExtraCounts(by_nationality=BY_NATIONALITY),
        restricted_courts=("SEA",),
    )
    assert out.loc[0, "status"] == NOT_COMPUTABLE and "need all courts" in out.loc[0, "detail"]


def test_reading_and_csv_forms_of_the_new_kinds():
    frame = run_compare(
        figure("pd_closures_per_month_approx", "2400", "2013-02-01", "2013-06-30"),
        figure("pd_closures_per_month_max", "100", "2013-02-01", "2013-06-30"),
        figure("pending_at_end", "800", "2014-03-31", "2014-03-31"),
        extra=EXTRA,
    )
    shown = validation.for_reading(frame)
    assert shown["published_value"].tolist() == ["about 2,400 a month", "under 100 a month", "800"]
    assert shown["computed_value"].tolist() == ["70.0 a month", "70.0 a month", "800"]
    assert shown["difference"].tolist() == ["-2,330.0", "-30.0", "+0"]
    csv = validation.format_validation(frame)
    assert csv["computed_value"].tolist() == ["70.0", "70.0", "800"]


def test_the_project_table_of_more_published_figures():
    more = validation.load_published(validation.PUBLISHED_MORE_PATH)
    assert len(more) >= 40 and set(more["confidence"]) <= {"high", "medium", "low"}
    assert more["url"].str.startswith("http").all() and (more["note"] != "").all()
    key = more.set_index(["source", "window_start", "window_end", "geography", "metric"])["value"]
    assert key[("TRAC report 474", "2016-02-01", "2016-06-30", "national", "pd_closures_per_month_approx")] == "2400"
    assert key[("TRAC report 474", "2017-02-01", "2017-06-30", "national", "pd_closures_per_month_max")] == "100"
    assert key[("TRAC bulletin", "2011-10-01", "2012-06-28", "nationality:China", "pending_at_start")] == "26579"
    assert key[("TRAC report 284", "2011-10-01", "2012-05-31", "court:LOS", "pd_closures")] == "534"
    eoir = more[more["metric"] == "eoir_total_completions"]
    assert eoir["window_start"].str.endswith("-10-01").all() and len(eoir) == 9
    every = validation.load_published()  # both files, in order
    assert len(every) == len(validation.load_published(validation.PUBLISHED_PATH)) + len(more)
    assert every["confidence"].iloc[0] == "" and every["confidence"].iloc[-1] in ("high", "medium", "low")


def test_a_bad_row_is_refused_with_its_file_and_line(tmp_path):
    path = tmp_path / "figures.csv"
    row = "TRAC,https://x.org,2012,2012-10-01,2012-09-30,national,pd_closures,3,"
    path.write_text(",".join(validation.PUBLISHED_COLUMNS) + "\n" + row + "\n")
    with pytest.raises(ValueError, match=r"figures.csv, line 2: window_start 2012-10-01 is after"):
        validation.load_published(path)
    path.write_text(",".join(validation.PUBLISHED_COLUMNS) + "\n" + row.replace("2012-09-30", "2013-09-30") + "x\n")
    assert validation.load_published(path)["confidence"].tolist() == [""]
    bad_value = "TRAC,https://x.org,2012,2012-10-01,2013-09-30,national,pd_closures,about 3,"
    path.write_text(",".join(validation.PUBLISHED_COLUMNS) + "\n" + bad_value + "\n")
    with pytest.raises(ValueError, match="line 2: could not convert"):
        validation.load_published(path)


def test_backlog_at_a_day_and_terminations_on_hand_counted_data(ingested):
    calc = rates.RateCalculator(ingested, WINDOW)
    # Open when 2012-10-01 begins: 1, 3, 5, 6, 8, 9, 11, 12 (as the pending-at-start row).
    assert validation.pending_at(calc, WINDOW.start) == EXPECTED["pending_at_start"][1]
    # Open when 2014-04-01 begins: 9 (never completed) and 11 (completed 2014-05-01).
    assert validation.pending_at(calc, params.parse_window("2014-04-01", "2014-04-01").start) == 2
    # Cases instead of proceedings, removal types only: 1, 3, 5, 6, 9, 11, 12 at the start.
    assert validation.pending_at(calc, WINDOW.start, rates.Method(case_types=("RMV", "DEP", "EXC"), unit="case")) == 7
    tables = validation.basis_tables(calc, validation.terminations_method(calc.method))
    assert tuple(tables["national"].iloc[0][["pd_closures", "completions"]]) == (1, 10)  # 4: I at TUC, 2013-09-01
    years = tables["fiscal_years"].set_index("fiscal_year")
    assert years.loc[2013, "pd_closures"] == 1 and years.loc[2014, "pd_closures"] == 0


# --------------------------------------------------------------------------------------------
# TRAC's 2012 basis per nationality, on a tiny release (window 2011-10-01..2012-06-28, as the bulletin)

NATIONALITY_WINDOW = params.parse_window("2011-10-01", "2012-06-28")
BEFORE = "2011-01-01 00:00:00.000"  # received before the window: pending at its start unless completed
NATIONALITY_ROWS = [
    proceeding(1, nat="MX", comp="2011-11-01", other="Y", INPUT_DATE=BEFORE),
    proceeding(2, nat="MX", comp="2012-02-01", other="M", INPUT_DATE=BEFORE),
    proceeding(3, nat="MX", comp="2012-03-01", dec="X", INPUT_DATE=BEFORE),
    proceeding(4, nat="MX", comp="", INPUT_DATE=BEFORE),  # still open
    proceeding(5, nat="MX", comp="2012-04-01", other="Y", INPUT_DATE="2011-11-15 00:00:00.000"),  # came later
    proceeding(6, nat="MX", comp="2011-09-01", other="Y", INPUT_DATE=BEFORE),  # closed before the start
    proceeding(7, nat="MX", comp="2012-08-01", other="Y", INPUT_DATE=BEFORE),  # PD after the window
    proceeding(8, nat="CH", comp="2012-01-10", dec="X", INPUT_DATE=BEFORE),
    proceeding(9, nat="CH", comp="", INPUT_DATE=BEFORE),
    proceeding(10, nat="KS\x00", comp="2012-05-05", other="M", INPUT_DATE=BEFORE),  # NUL stripped in the cache
    proceeding(11, nat="ZZ", comp="", INPUT_DATE=BEFORE),  # a code the lookup lacks
    proceeding(12, nat="", comp="2012-06-01", other="Y", INPUT_DATE=BEFORE),  # no nationality
]
# Pending at 2011-10-01: MX 1, 2, 3, 4, 7 (5); CH 8, 9; KS 10; ZZ 11; none 12. PD among them in the
# window: MX 1, 2; KS 10; none 12. The lookup's ?? (UNKNOWN NATIONALITY) has no proceeding.
BY_NATIONALITY_EXPECTED = [
    ["MX", "MEXICO", 5, 2],
    ["CH", "CHINA", 2, 0],
    ["", "(no nationality code)", 1, 1],
    ["KS", "SOUTH KOREA", 1, 1],
    ["ZZ", "(unknown code ZZ)", 1, 0],
    ["??", "UNKNOWN NATIONALITY", 0, 0],
]


def nationality_calculator(tmp_path, **release_options):
    release = write_release(tmp_path / "release", [proceeding_line(r) for r in NATIONALITY_ROWS], **release_options)
    ingested = ingest.ingest_release(release, tmp_path / "interim", progress=False)
    return rates.RateCalculator(ingested, NATIONALITY_WINDOW)


def test_pending_at_start_by_nationality_on_hand_counted_data(tmp_path):
    calc = nationality_calculator(tmp_path)
    frame = validation.pending_at_start_by_nationality(calc)
    assert frame.columns.tolist() == ["nat", "nationality", "pending_at_start", "pd_closures"]
    assert frame.values.tolist() == BY_NATIONALITY_EXPECTED
    national = validation.pending_at_start(calc).iloc[0]  # the nationalities add up to the national basis
    assert (frame["pd_closures"].sum(), frame["pending_at_start"].sum()) == (
        national["pd_closures"],
        national["completions"],
    )
    published = pd.DataFrame(
        [
            figure("pd_closures", "2", "2011-10-01", "2012-06-28", geography="nationality:Mexico"),
            figure("pd_rate_pct_of_pending", "40.0", "2011-10-01", "2012-06-28", geography="nationality:MX"),
            figure("pending_at_start", "2", "2011-10-01", "2012-03-31", geography="nationality:China"),
            figure("pd_rate_pct_of_pending", "0.0", "2011-10-01", "2012-06-28", geography="nationality:China"),
            figure("pd_rate_pct_of_pending", "3.9", "2011-10-01", "2012-06-28", geography="nationality:South Korea"),
            figure("pd_closures", "3", "2011-10-01", "2012-06-28", geography="nationality:Cameroon"),
        ]
    )
    extra = validation.ExtraCounts(by_nationality=frame)
    out = validation.compare(published, NATIONALITY_WINDOW, calc.national(), extra=extra)
    assert out["status"].tolist() == [PASS, PASS, PASS, PASS, FAIL, NOT_COMPUTABLE]  # Korea: 1 of 1
    assert "neither a NAT code nor a NAT_NAME" in out.loc[5, "detail"]


def test_nationality_basis_follows_the_run_scope_and_unit(tmp_path):
    calc = nationality_calculator(tmp_path)
    calc = rates.RateCalculator(calc.ingest, NATIONALITY_WINDOW, rates.Method(pd_codes=("Y",)))
    frame = validation.pending_at_start_by_nationality(calc).set_index("nat")
    assert frame.loc["MX", "pd_closures"] == 1 and frame.loc["KS", "pd_closures"] == 0  # M is no longer PD


def test_nationality_basis_without_the_lookup_keeps_the_codes(tmp_path):
    calc = nationality_calculator(tmp_path, drop_tables=(release_format.NATIONALITY_TABLE,))
    frame = validation.pending_at_start_by_nationality(calc)
    assert frame["nationality"].tolist() == ["MX", "CH", "(no nationality code)", "KS", "ZZ"]
    extra = validation.ExtraCounts(by_nationality=frame, nationality_note="tblLookupNationality is missing")
    published = pd.DataFrame(
        [
            figure("pd_closures", "2", "2011-10-01", "2012-06-28", geography="nationality:MX"),
            figure("pd_closures", "2", "2011-10-01", "2012-06-28", geography="nationality:Mexico"),
        ]
    )
    out = validation.compare(published, NATIONALITY_WINDOW, calc.national(), extra=extra)
    assert out["status"].tolist() == [PASS, NOT_COMPUTABLE]
    assert out.loc[1, "detail"].endswith("; tblLookupNationality is missing")


def test_a_cache_without_nationalities_says_so(tmp_path):
    calc = nationality_calculator(tmp_path)
    calc.con.execute(
        "CREATE OR REPLACE VIEW proceedings AS SELECT * EXCLUDE (NAT) "
        f"FROM read_parquet('{rates.sql_path(calc.ingest.proceedings_path)}')"
    )
    with pytest.raises(ReleaseError, match="the cache has no NAT column"):
        validation.pending_at_start_by_nationality(calc)


# --------------------------------------------------------------------------------------------
# The new kinds end to end on a tiny release: February-June 2016 and 2017, as report 474 compares them

ERA_INPUT = "2015-01-01 00:00:00.000"
LATER_INPUT = "2016-12-01 00:00:00.000"  # the 2017 proceedings: not pending in 2016


def era_rows():
    rows, idn = [], iter(range(1, 100))

    def add(comp, other="", dec="", case_type="RMV", input_date=ERA_INPUT):
        rows.append(proceeding(next(idn), comp=comp, other=other, dec=dec, case_type=case_type, INPUT_DATE=input_date))

    for month, codes in {2: "YY", 3: "YYI", 4: "YM", 5: "YYY", 6: "YY"}.items():  # PD 2, 3, 2, 3, 2: 2.4 a month
        for code in codes:
            add(f"2016-{month:02d}-10", other=code)
        add(f"2016-{month:02d}-20", dec="X")  # a merits decision each month
    add("2016-03-21", dec="X", case_type="CFR")  # not a case type of EOIR's series
    add("2016-06-25", other="C")  # change of venue: in no total
    add("", case_type="RMV")  # open at the end of June 2016
    add("", case_type="DEP")
    add("2016-08-01", dec="X")  # completed after the window
    add("", case_type="CFR")  # open, but not in EOIR's pending series
    for month in range(2, 7):  # 2017: one PD closure in five months
        add(f"2017-{month:02d}-10", dec="X", input_date=LATER_INPUT)
    add("2017-04-11", other="M", input_date=LATER_INPUT)
    return rows


# 2016 run: PD 12 of 18 completions (12 PD, 5 RMV decisions, 1 CFR decision; not the C); EOIR basis: the
# 5 RMV decisions. Pending at the end of 2016-06-30: the RMV, DEP and CFR ones still open and the one
# completed 2016-08-01 (4); EOIR's case types: 3. Pending when 2016-02-01 begins: every 2016 row (23);
# EOIR's: 21 (not the two CFR). Terminations (I): 1.
ERA_2016 = params.parse_window("2016-02-01", "2016-06-30")
ERA_2017 = params.parse_window("2017-02-01", "2017-06-30")


@pytest.fixture(scope="module")
def era_release(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("eras")
    release = write_release(tmp / "release", [proceeding_line(r) for r in era_rows()])
    return ingest.ingest_release(release, tmp / "interim", progress=False)


def run_validation(ingested, window, figures_, folder):
    calc = rates.RateCalculator(ingested, window)
    rates.write_tables(calc.all_tables(), folder)
    extra = validation.extra_counts(calc)
    return validation.validate_run(folder, window, published=pd.DataFrame(figures_), extra=extra), extra


def test_the_new_kinds_on_a_tiny_release_of_2016(era_release, tmp_path):
    out, extra = run_validation(
        era_release,
        ERA_2016,
        [
            figure("pd_closures_per_month_approx", "2.4", "2016-02-01", "2016-06-30"),
            figure("pd_closures_per_month_approx", "2.6", "2016-02-01", "2016-06-30"),  # 2.4 is 7.7% below
            figure("pd_closures_per_month_max", "2.5", "2016-02-01", "2016-06-30"),
            figure("pd_closures_per_month_max", "2.4", "2016-02-01", "2016-06-30"),
            figure("all_dispositions", "18", "2016-02-01", "2016-06-30"),
            figure("all_dispositions", "19", "2016-02-01", "2016-06-30"),
            figure("eoir_total_completions", "5", "2016-02-01", "2016-06-30"),
            figure("eoir_total_completions", "18", "2016-02-01", "2016-06-30"),
            figure("total_completions", "5", "2016-03-01", "2016-03-31"),  # March: Y, Y, I, X and the CFR X
            figure("pending_at_end", "4", "2016-06-30", "2016-06-30"),
            figure("pending_at_end", "23", "2016-01-31", "2016-01-31"),
            figure("eoir_pending_at_end", "3", "2016-06-30", "2016-06-30"),
            figure("eoir_pending_at_end", "21", "2016-01-31", "2016-01-31"),
            figure("pd_terminations_approx", "1", "2016-02-01", "2016-06-30"),
            figure("pd_closures_per_month_max", "1", "2017-02-01", "2017-06-30"),  # another window
        ],
        tmp_path,
    )
    assert out["status"].tolist() == [PASS, FAIL, PASS, FAIL, PASS, FAIL, PASS, FAIL] + [PASS] * 6 + [NOT_COMPUTABLE]
    assert out["computed_value"].tolist()[:8] == pytest.approx([2.4, 2.4, 2.4, 2.4, 18, 18, 5, 5])
    assert extra.pending_at == {ERA_2016.start: 23, ERA_2016.end + pd.Timedelta(days=1).to_pytimedelta(): 4}


def test_fewer_than_n_a_month_on_a_tiny_release_of_2017(era_release, tmp_path):
    out, _ = run_validation(
        era_release,
        ERA_2017,
        [
            figure("pd_closures_per_month_max", "1", "2017-02-01", "2017-06-30"),  # 1 in 5 months: 0.2
            figure("pd_closures_per_month_max", "0.2", "2017-02-01", "2017-06-30"),
            figure("pd_closures", "1", "2017-04-01", "2017-04-30"),
            figure("all_dispositions", "6", "2017-02-01", "2017-06-30"),
            figure("pd_terminations_approx", "1", "2017-02-01", "2017-06-30"),  # no I in 2017
            figure("pd_closures_per_month_approx", "2.4", "2016-02-01", "2016-06-30"),
        ],
        tmp_path,
    )
    assert out["status"].tolist() == [PASS, FAIL, PASS, PASS, FAIL, NOT_COMPUTABLE]
    assert out.loc[0, "computed_value"] == pytest.approx(0.2)


def test_a_release_without_the_termination_code_says_so(boundary):
    extra = validation.extra_counts(boundary)
    assert extra.terminations is None and extra.by_nationality is not None
    out = validation.compare(
        pd.DataFrame([figure("pd_terminations_approx", "650", "2013-01-01", "2013-12-31")]),
        boundary.window,
        boundary.national(),
        extra=extra,
    )
    assert out.loc[0, "status"] == NOT_COMPUTABLE and "occurs nowhere in this release" in out.loc[0, "detail"]


# --------------------------------------------------------------------------------------------
# The synthetic sample's planted truth per nationality (written by the generator from its own records)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
SAMPLE_MANIFEST = json.loads((SAMPLE / "sample_manifest.json").read_text())


@pytest.fixture(scope="module")
def sample_ingested(tmp_path_factory):
    return ingest.ingest_release(
        SAMPLE / "eoir_synthetic_sample.zip", tmp_path_factory.mktemp("sample"), progress=False
    )


@pytest.mark.parametrize("window_name", ["trac-2012-nationality", "FY2013"])
def test_the_sample_planted_pending_basis_per_nationality_is_recovered(sample_ingested, window_name):
    window = params.parse_window(*SAMPLE_MANIFEST["windows"][window_name])
    calc = rates.RateCalculator(sample_ingested, window)
    frame = validation.pending_at_start_by_nationality(calc)
    found = {
        row.nat: {"pending_at_start": row.pending_at_start, "pd_closures": row.pd_closures}
        for row in frame.itertuples()
        if row.pending_at_start
    }
    assert found == SAMPLE_MANIFEST["truth"]["pending_by_nationality"][window_name]
    names = frame.set_index("nat")["nationality"]
    assert (names["MX"], names["CH"], names["KS"], names["CM"], names["IN"]) == (
        "MEXICO",
        "CHINA",
        "SOUTH KOREA",
        "CAMEROON",
        "INDIA",
    )


def test_a_synthetic_sample_counts_at_its_scale():
    out = run_compare(
        figure("pd_closures", "33700"),  # 674 x 50
        figure("pd_rate_pct", "6.7"),  # a percentage is the same at any scale
        figure("pd_closures_per_month_approx", "3500", "2013-02-01", "2013-06-30"),  # 70 a month x 50
        scale=50,
    )
    assert out["status"].tolist() == [PASS, PASS, PASS]
    assert out["computed_value"].tolist() == pytest.approx([33700, 6.74, 3500])
    assert out.loc[0, "basis"] == "national.csv × 50 (the synthetic sample's scale)"
    assert out.loc[1, "basis"] == "national.csv"
