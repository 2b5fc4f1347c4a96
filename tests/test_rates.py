"""Rates: each method parameter changes the counts as it should, on tiny releases with known answers."""

import math
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pandas.testing as pd_testing
import pytest
from tiny_release import proceeding, proceeding_line, write_release

from pdclosures import ingest, params, rates
from pdclosures.errors import ParameterError

# Twelve proceedings in FY2013 and FY2014 with hand-counted answers.
ROWS = [
    proceeding(1, case=1, court="SEA", comp="2012-10-01", other="Y"),  # first day of the window
    proceeding(2, case=2, court="SEA", comp="2013-03-31", other="M"),
    proceeding(3, case=3, court="SEA", comp="2013-05-02", other="C"),  # change of venue: not a completion
    proceeding(4, case=3, court="TUC", comp="2013-06-10", other="I"),  # case 3 goes on at Tucson
    proceeding(5, case=5, court="TUC", comp="2013-11-20", dec="X"),
    proceeding(6, case=6, court="HOU", comp="2014-03-31", other="T"),  # transfer: not a completion
    proceeding(7, case=6, court="HOU", comp="2014-03-31", dec="R", case_type="DEP"),  # last day
    proceeding(8, case=8, court="HOU", comp="2014-04-01", other="Y"),  # the day after the window
    proceeding(9, case=9, court="HOU", comp="2012-09-30", other="Y"),  # the day before the window
    proceeding(10, case=10, court="NYC", comp="2013-01-09", other="A", case_type="CFR"),
    proceeding(11, case=10, court="NYC", comp="2013-07-09", other="Y", case_type="CFR"),  # same case again
    proceeding(12, case=12, court="XYZ", comp="2013-08-01", dec="X", hloc="XYZ"),  # not in the lookup
    proceeding(13, case=13, court="SEA", comp=""),  # pending
]
WINDOW = params.parse_window("2012-10-01", "2014-03-31")


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rates")
    release = write_release(tmp / "release", [proceeding_line(r) for r in ROWS])
    return ingest.ingest_release(release, tmp / "interim", progress=False)


def national(ingested, window=WINDOW, **method):
    row = rates.RateCalculator(ingested, window, rates.Method(**method)).national().iloc[0]
    return row["pd_closures"], row["completions"]


def test_default_method(ingested):
    # Completions in window, C and T excluded: 1, 2, 4, 5, 7, 10, 11, 12. PD (Y, M, I): 1, 2, 4, 11.
    assert national(ingested) == (4, 8)


def test_window_bounds_are_inclusive(ingested):
    assert national(ingested, params.parse_window("2012-10-01", "2012-10-01")) == (1, 1)
    assert national(ingested, params.parse_window("2014-03-31", "2014-03-31")) == (0, 1)
    assert national(ingested, params.parse_window("2012-09-30", "2014-04-01")) == (6, 10)


def test_pd_code_sets(ingested):
    assert national(ingested, pd_codes=("Y",)) == (2, 8)
    assert national(ingested, pd_codes=("Y", "M")) == (3, 8)


def test_including_change_of_venue_and_transfer_in_the_denominator(ingested):
    assert national(ingested, excluded_codes=()) == (4, 10)


def test_case_type_filter(ingested):
    assert national(ingested, case_types=("RMV", "DEP", "EXC")) == (3, 6)
    assert national(ingested, case_types=("CFR",)) == (1, 2)


def test_case_unit_counts_each_case_once_at_its_last_completion(ingested):
    # Cases 1, 2, 3 (via 4), 5, 6 (via 7), 10 (via 11, PD), 12.
    assert national(ingested, unit="case") == (4, 7)


def test_court_filter(ingested):
    assert national(ingested, courts=("SEA", "TUC")) == (3, 4)


def test_unknown_court_filter_is_a_parameter_error(ingested):
    with pytest.raises(ParameterError, match="courts: ABC is not a court"):
        rates.RateCalculator(ingested, WINDOW, rates.Method(courts=("ABC",)))


def test_breakdowns(ingested):
    tables = rates.RateCalculator(ingested, WINDOW).all_tables(min_completions=2)
    courts = tables["courts"].set_index("base_city_code")
    assert courts.loc["SEA", ["court", "state", "pd_closures", "completions"]].tolist() == ["Seattle, WA", "WA", 2, 2]
    assert courts.loc["XYZ", "court"] == "(unknown code XYZ)"
    # Ranked: at least 2 completions first by rate (SEA 100%, TUC 50%, NYC 50%), then the small ones.
    assert tables["courts"]["base_city_code"].tolist() == ["SEA", "NYC", "TUC", "HOU", "XYZ"]
    fiscal = tables["fiscal_years"].set_index("fiscal_year")
    assert fiscal.loc[2013, ["pd_closures", "completions", "partial"]].tolist() == [4, 6, False]
    assert fiscal.loc[2014, ["pd_closures", "completions", "partial"]].tolist() == [0, 2, True]
    months = tables["months"]
    assert len(months) == 18 and months["completions"].sum() == 8
    assert tables["circuits"].set_index("circuit").loc["9", "completions"] == 4
    assert tables["regions"].set_index("region").loc["(unknown)", "completions"] == 1
    assert tables["states"].set_index("state")["completions"].sum() == 8
    for name, frame in tables.items():
        assert frame["pd_closures"].sum() == 4 and frame["completions"].sum() == 8, name


def test_window_without_completions_gives_zero_counts_and_empty_rates(ingested):
    window = params.parse_window("2020-01-01", "2020-12-31")
    tables = rates.RateCalculator(ingested, window).all_tables()
    row = tables["national"].iloc[0]
    assert (row["pd_closures"], row["completions"]) == (0, 0) and math.isnan(row["pd_rate"])
    assert tables["courts"].empty and len(tables["months"]) == 12


def test_wilson_interval_known_values():
    low, high = rates.wilson_interval([0, 3, 50], [10, 4, 100])
    assert low[0] == 0 and high[0] == pytest.approx(0.27753, abs=1e-5)
    assert (low[1], high[1]) == (pytest.approx(0.30064, abs=1e-5), pytest.approx(0.95441, abs=1e-5))
    assert (low[2], high[2]) == (pytest.approx(0.40383, abs=1e-5), pytest.approx(0.59617, abs=1e-5))
    empty_low, empty_high = rates.wilson_interval([0], [0])
    assert math.isnan(empty_low[0]) and math.isnan(empty_high[0])


# --------------------------------------------------------------------------------------------
# Whole-month windows are counted from the monthly completions table; every other window, and
# the case unit, scan the proceedings. Both routes must give the same tables.

SAMPLE_ZIP = Path(__file__).resolve().parents[1] / params.SAMPLE_RELEASE
METHODS = [
    rates.Method(),
    rates.Method(pd_codes=("Y",)),
    rates.Method(pd_codes=("Y", "M", "I", "C"), excluded_codes=("T",)),
    rates.Method(excluded_codes=()),
    rates.Method(pd_codes=()),
    rates.Method(case_types=("RMV", "DEP", "EXC")),
    rates.Method(courts=("SEA", "TUC")),
]


@pytest.fixture(scope="module")
def sample_ingest(tmp_path_factory):
    return ingest.ingest_release(SAMPLE_ZIP, tmp_path_factory.mktemp("sample-interim"), progress=False)


def scanned_tables(ingested, window, method, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(rates.Window, "whole_months", lambda self: False)
        calculator = rates.RateCalculator(ingested, window, method)
        assert not calculator.uses_monthly_table()
        return calculator.all_tables(100), [
            calculator.national_for(rates.Method(pd_codes=("Y",))),
            calculator.national_for(replace(method, unit="case")),
        ]


@pytest.mark.parametrize("method", METHODS, ids=lambda m: m.describe())
@pytest.mark.parametrize(
    "window", [("2012-10-01", "2014-03-31"), ("2011-10-01", "2013-12-31"), ("2013-02-01", "2013-02-28")]
)
def test_monthly_table_gives_the_same_tables_as_a_scan(sample_ingest, window, method, monkeypatch):
    window = params.parse_window(*window)
    calculator = rates.RateCalculator(sample_ingest, window, method)
    assert calculator.uses_monthly_table()
    expected_tables, expected_national = scanned_tables(sample_ingest, window, method, monkeypatch)
    assert calculator.national().loc[0, "completions"] > 0
    for name, frame in calculator.all_tables(100).items():
        pd_testing.assert_frame_equal(frame, expected_tables[name], check_dtype=False, obj=name)
    # Another proceeding method (from the monthly table), and the case unit (a scan of the cache
    # here, of the rows read into memory there).
    for other, expected in zip([rates.Method(pd_codes=("Y",)), replace(method, unit="case")], expected_national):
        pd_testing.assert_frame_equal(calculator.national_for(other), expected, check_dtype=False)


def test_windows_that_are_not_whole_months_and_the_case_unit_scan(sample_ingest):
    assert not rates.RateCalculator(sample_ingest, params.parse_window("2012-10-02", "2014-03-31")).uses_monthly_table()
    assert not rates.RateCalculator(sample_ingest, params.parse_window("2012-10-01", "2014-03-30")).uses_monthly_table()
    assert not rates.RateCalculator(
        sample_ingest, params.parse_window("2012-10-01", "2014-03-31"), rates.Method(unit="case")
    ).uses_monthly_table()
    assert params.parse_window("2012-02-01", "2012-02-29").whole_months()  # a leap year's February


def test_monthly_table_is_written_once_beside_the_cache(ingested):
    path = ingested.cache_dir / rates.MONTHLY_FILE
    path.unlink(missing_ok=True)
    national(ingested)
    written = path.stat().st_mtime_ns
    # 2013: completions 2, 4, 5, 10, 11, 12 (3 is a change of venue); PD closures 2, 4, 11.
    assert national(ingested, params.parse_window("2013-01-01", "2013-12-31")) == (3, 6)
    assert path.stat().st_mtime_ns == written
    assert not list(ingested.cache_dir.glob(".*tmp*"))


def test_a_read_only_cache_still_counts(ingested, monkeypatch):
    path = ingested.cache_dir / rates.MONTHLY_FILE
    path.unlink(missing_ok=True)

    def refuse(*args):
        raise PermissionError("read-only file system")

    monkeypatch.setattr(rates.os, "replace", refuse)
    assert national(ingested) == (4, 8)
    assert not path.exists() and not list(ingested.cache_dir.glob(".*tmp*"))


# --------------------------------------------------------------------------------------------
# The ranking rule of courts.csv and the other breakdowns (min_completions = 3)

RANKED_ROWS = [
    proceeding(100 + i, court=court, comp="2013-05-15", other=other)
    for i, (court, other) in enumerate(
        [
            *[("TUC", "Y")] * 2,
            ("TUC", ""),  # 2/3 = 66.7%, exactly min_completions
            *[("HOU", "Y")] * 2,
            *[("HOU", "")] * 6,  # 2/8 = 25%
            ("SEA", "M"),
            *[("SEA", "")] * 3,  # 1/4 = 25%: ties HOU, fewer completions
            *[("NYC", "Y")] * 2,  # 2/2 = 100%, but under min_completions
            *[("ABC", "")] * 2,  # 0/2, not in the lookup
            ("XYZ", "Y"),  # 1/1, not in the lookup
        ]
    )
]


@pytest.fixture(scope="module")
def ranked(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ranked")
    release = write_release(tmp / "release", [proceeding_line(r) for r in RANKED_ROWS])
    ingested = ingest.ingest_release(release, tmp / "interim", progress=False)
    return rates.RateCalculator(ingested, params.parse_window("2013-01-01", "2013-12-31")).all_tables(3)


def test_courts_are_ranked_by_rate_then_the_small_ones_by_size(ranked):
    courts = ranked["courts"]
    # Ranked (3 or more completions): TUC 66.7%; HOU and SEA both 25%, the larger first. Then the
    # courts under 3 completions, largest first whatever their rate: NYC and ABC (2 each, the higher
    # rate first), then XYZ (1, although its rate is 100%).
    assert courts["base_city_code"].tolist() == ["TUC", "HOU", "SEA", "NYC", "ABC", "XYZ"]
    assert courts[["pd_closures", "completions"]].values.tolist() == [[2, 3], [2, 8], [1, 4], [2, 2], [0, 2], [1, 1]]
    assert courts["court"].tolist()[-1] == "(unknown code XYZ)"


def test_states_follow_the_same_rule(ranked):
    # ABC and XYZ have no state: together 1/3, ranked between AZ and TX.
    assert ranked["states"]["state"].tolist() == ["AZ", "(unknown)", "TX", "WA", "NY"]
    assert ranked["regions"]["region"].tolist() == ["Western", "Eastern", "(unknown)"]  # 3/7, 4/10, 1/3


def test_min_completions_zero_ranks_everything_by_rate():
    frame = rates.add_rates(
        pd.DataFrame({"key": ["a", "b", "c", "d"], "pd_closures": [1, 1, 0, 2], "completions": [1, 2, 5, 4]})
    )
    # a 100%; d and b 50%, the larger first; c 0%.
    assert rates.rank(frame, 0, "key")["key"].tolist() == ["a", "d", "b", "c"]
    assert rates.rank(frame, 5, "key")["key"].tolist() == ["c", "d", "b", "a"]  # only c has 5: then by size


# --------------------------------------------------------------------------------------------
# Tables for reading


def test_display_table_formats_like_a_publication():
    frame = pd.DataFrame(
        {
            "base_city_code": ["SEA", "XYZ"],
            "court": ["Seattle, WA", None],
            "fiscal_year": [2013, 2014],
            "partial": [False, True],
            "pd_closures": [1234, 0],
            "completions": [1234567, 0],
            "pd_rate": [0.067, float("nan")],
            "ci_low": [0.0651, float("nan")],
            "ci_high": [0.0689, float("nan")],
        }
    )
    table = rates.publication_table(frame)
    assert table.columns.tolist() == [
        "Court code",
        "Court",
        "Fiscal year",
        "Part of the year",
        "PD closures",
        "Completions",
        "PD rate",
        "95% interval",
    ]
    assert table.values.tolist() == [
        ["SEA", "Seattle, WA", "FY2013", "", "1,234", "1,234,567", "6.7%", "6.5–6.9%"],
        ["XYZ", "", "FY2014", "yes", "0", "0", "—", "—"],
    ]
    assert rates.publication_table(frame[["pd_rate", "ci_low", "ci_high"]], decimals=2).values.tolist()[0] == [
        "6.70%",
        "6.51–6.89%",
    ]


def test_display_table_has_no_index_and_the_same_html_every_time():
    frame = rates.add_rates(pd.DataFrame({"state": ["WA"], "pd_closures": [1], "completions": [2]}))
    styled = rates.display_table(frame)
    html = styled.to_html()
    assert "row_heading" not in html and ">0<" not in html  # no index column
    assert html == rates.display_table(frame).to_html()
    assert repr(styled).splitlines() == [
        "State PD closures Completions PD rate 95% interval",
        "   WA           1           2   50.0%    9.5–90.5%",
    ]
