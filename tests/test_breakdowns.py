"""Nationalities, custody and case types: the national row's completions and PD closures, broken down by
the proceeding's own codes and named from the lookups, on tiny releases with known answers."""

import json
from pathlib import Path

import pandas as pd
import pytest
from tiny_release import lookup_lines, proceeding, proceeding_line, write_release

from pdclosures import ingest, params, rates, release_format

CASE_TYPES = [("RMV", "Removal"), ("CFR", "Credible Fear Review")]
# Eleven proceedings, counted by hand for 2013 under the default method.
ROWS = [
    proceeding(1, comp="2013-01-10", other="Y", nat="MX", custody="D"),
    proceeding(2, comp="2013-02-10", nat="MX", custody="D", dec="U"),  # a dismissal (pd-dismissals)
    proceeding(3, comp="2013-03-10", other="M", nat="MX\x00 ", custody="R"),  # padded like the release
    proceeding(4, comp="2013-04-10", nat="CH", custody="N", court="TUC", dec="D"),  # D: Deny in RMV
    proceeding(5, comp="2013-05-10", nat="CH", custody="N", case_type="CFR", dec="D"),  # D: dismissed in CFR
    proceeding(6, comp="2013-06-10", other="I", nat="KS", court="HOU"),  # no custody code
    proceeding(7, comp="2013-07-10", custody="D"),  # no nationality code
    proceeding(8, comp="2013-08-10", nat="ZZ", custody="D", case_type="AOC"),  # codes missing from the lookups
    proceeding(9, comp="2013-09-10", other="C", nat="MX", custody="D"),  # change of venue: not a completion
    proceeding(10, comp="2014-02-01", other="Y", nat="MX", custody="D"),  # after the window
    proceeding(11, comp="", nat="MX", custody="D"),  # pending
]
WINDOW = params.parse_window("2013-01-01", "2013-12-31")


# The decision lookup: OTHER_COMP rows (strDecType O) and DEC_CODE rows (C), one letter meaning a dismissal in
# one case type and a denial in another.
DECISIONS = [
    ("RMV", "Y", "Prosecutorial Discretion - Admin Close", "O"),
    ("RMV", "C", "Change of venue", "O"),
    ("RMV", "T", "Transfer", "O"),
    ("RMV", "U", "Dismissed by IJ", "C"),
    ("RMV", "D", "Deny", "C"),
    ("CFR", "D", "DISMISSED", "C"),
]


def case_type_lookup() -> list[str]:
    rows = [{"idnCaseType": str(i), "strCode": c, "strDescription": d} for i, (c, d) in enumerate(CASE_TYPES, 1)]
    return lookup_lines(release_format.CASE_TYPE_TABLE, rows)


def decision_lookup() -> list[str]:
    columns = ("strCaseType", "strDecCode", "strDecDescription", "strDecType")
    rows = [{"idnCourtDecision": str(i), **dict(zip(columns, row))} for i, row in enumerate(DECISIONS, 1)]
    return lookup_lines(release_format.DECISION_TABLE, rows)


def ingested_release(tmp, drop_tables=()):
    release = write_release(
        tmp / "release",
        [proceeding_line(r) for r in ROWS],
        lookups={release_format.CASE_TYPE_TABLE: case_type_lookup(), release_format.DECISION_TABLE: decision_lookup()},
        drop_tables=drop_tables,
    )
    return ingest.ingest_release(release, tmp / "interim", progress=False)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    return ingested_release(tmp_path_factory.mktemp("breakdowns"))


def counts(frame: pd.DataFrame, label: str) -> dict:
    """label -> (pd_closures, completions); an empty code as None."""
    return {
        None if pd.isna(row[label]) else row[label]: (row["pd_closures"], row["completions"])
        for _, row in frame.iterrows()
    }


def test_nationalities_are_counted_named_and_ranked(ingested):
    table = rates.RateCalculator(ingested, WINDOW).nationalities(min_completions=2)
    assert list(table.columns) == ["nat", "nationality", *rates.RATE_COLUMNS]
    # Completions 1-8 (9 is a change of venue); PD closures 1, 3 and 6. With at least 2 completions, by rate:
    # MX 2/3, CH 0/2; then the rest (1 each) by rate: KS 1/1, then ZZ and the empty code (0/1), by code.
    assert table["nationality"].tolist() == ["MEXICO", "CHINA", "SOUTH KOREA", "(unknown code ZZ)", "(no code)"]
    assert table["nat"].tolist()[:4] == ["MX", "CH", "KS", "ZZ"] and pd.isna(table["nat"].iloc[4])
    assert table[["pd_closures", "completions"]].values.tolist() == [[2, 3], [0, 2], [1, 1], [0, 1], [0, 1]]
    assert table["pd_rate"].iloc[0] == pytest.approx(2 / 3)
    low, high = rates.wilson_interval([2], [3])
    assert (table["ci_low"].iloc[0], table["ci_high"].iloc[0]) == (pytest.approx(low[0]), pytest.approx(high[0]))


def test_custody_and_case_types(ingested):
    calculator = rates.RateCalculator(ingested, WINDOW)
    custody = calculator.custody()
    assert list(custody.columns) == ["custody", "custody_status", *rates.RATE_COLUMNS]
    assert counts(custody, "custody_status") == {
        "Detained": (1, 4),  # 1, 2, 7, 8
        "Released": (1, 1),  # 3
        "Never Detained": (0, 2),  # 4, 5
        "(no code)": (1, 1),  # 6
    }
    case_types = calculator.case_types()
    assert list(case_types.columns) == ["case_type", "case_type_name", *rates.RATE_COLUMNS]
    assert counts(case_types, "case_type_name") == {
        "Removal": (3, 6),
        "Credible Fear Review": (0, 1),
        "(unknown code AOC)": (0, 1),
    }


@pytest.mark.parametrize(
    "method",
    [
        rates.Method(),
        rates.Method(pd_codes=("Y",), excluded_codes=()),
        rates.Method(unit="case"),
        rates.Method(case_types=("RMV",)),
        rates.Method(courts=("SEA", "TUC")),
        rates.Method(definition="pd-dismissals"),
        rates.Method(definition="pd-dismissals", unit="case"),
    ],
    ids=lambda m: m.describe(),
)
@pytest.mark.parametrize(
    "window", [("2013-01-01", "2013-12-31"), ("2013-01-05", "2014-02-01"), ("2013-03-01", "2013-03-31")]
)
def test_each_breakdown_sums_to_the_national_row(ingested, method, window):
    calculator = rates.RateCalculator(ingested, params.parse_window(*window), method)
    tables = calculator.all_tables()
    national = tables["national"].iloc[0]
    assert national["completions"] > 0
    for name in ("nationalities", "custody", "case_types"):
        frame = tables[name]
        assert frame["pd_closures"].sum() == national["pd_closures"], name
        assert frame["completions"].sum() == national["completions"], name


def test_the_breakdowns_count_under_the_run_method(ingested):
    # Only Seattle and Tucson (4 is Tucson's, 6 Houston's): KS drops out; CH keeps 4 and 5.
    calculator = rates.RateCalculator(ingested, WINDOW, rates.Method(courts=("SEA", "TUC")))
    assert counts(calculator.nationalities(), "nat")["CH"] == (0, 2)
    assert "KS" not in set(calculator.nationalities()["nat"])
    # Change of venue counted as a completion: MX gains 9.
    calculator = rates.RateCalculator(ingested, WINDOW, rates.Method(excluded_codes=()))
    assert counts(calculator.nationalities(), "nat")["MX"] == (2, 4)


def test_under_pd_dismissals_the_breakdowns_count_the_dismissals_of_each_case_type(ingested):
    calculator = rates.RateCalculator(ingested, WINDOW, rates.Method(definition="pd-dismissals"))
    assert sorted(calculator.method.dismissals) == [("CFR", "D"), ("RMV", "U")]
    # PD closures 1, 3, 6 and the dismissals 2 (RMV U) and 5 (CFR D); 4 (RMV D, a denial) is not one.
    assert counts(calculator.nationalities(), "nat") == {
        "MX": (3, 3),
        "CH": (1, 2),
        "KS": (1, 1),
        "ZZ": (0, 1),
        None: (0, 1),
    }
    assert counts(calculator.case_types(), "case_type") == {"RMV": (4, 6), "CFR": (1, 1), "AOC": (0, 1)}
    assert calculator.national().loc[0, "pd_closures"] == 5


def test_a_release_without_a_lookup_keeps_the_codes(tmp_path):
    ingested = ingested_release(tmp_path, drop_tables=(release_format.NATIONALITY_TABLE,))
    assert not ingested.has_lookup(release_format.NATIONALITY_TABLE)
    calculator = rates.RateCalculator(ingested, WINDOW)
    table = calculator.nationalities(min_completions=2)
    assert table["nationality"].tolist() == ["MX", "CH", "KS", "ZZ", "(no code)"]
    assert counts(calculator.custody(), "custody_status")["Detained"] == (1, 4)  # the other lookups still name
    quality = ingested.data_quality
    missing = quality[quality["table"] == release_format.NATIONALITY_TABLE]
    assert missing[["column", "issue"]].values.tolist() == [["NAT", "lookup missing: codes not decoded"]]


def test_written_tables_keep_na_as_a_nationality(ingested, tmp_path):
    # NA is Netherlands Antilles in tblLookupNationality, not a missing value.
    frame = pd.DataFrame(
        {"nat": ["NA"], "nationality": ["NETHERLANDS ANTILLES"], "pd_closures": [1], "completions": [2]}
    )
    rates.write_tables({"nationalities": rates.add_rates(frame)}, tmp_path)
    assert (tmp_path / "nationalities.csv").read_text().splitlines()[1].startswith("NA,NETHERLANDS ANTILLES,1,2,")


# --------------------------------------------------------------------------------------------
# The sample's planted truth (data/sample/sample_manifest.json, counted by the generator from its own
# records under pd-closures), recovered exactly for every window.

SAMPLE_ZIP = Path(__file__).resolve().parents[1] / params.SAMPLE_RELEASE
TRUTH = json.loads(SAMPLE_ZIP.with_name("sample_manifest.json").read_text())


@pytest.fixture(scope="module")
def sample_ingest(tmp_path_factory):
    return ingest.ingest_release(SAMPLE_ZIP, tmp_path_factory.mktemp("sample-interim"), progress=False)


@pytest.mark.parametrize("window", sorted(TRUTH["truth"]["nationalities"]))
def test_the_sample_planted_nationalities_custody_and_case_types_are_recovered(sample_ingest, window):
    assert TRUTH["definitions"]["tables_by_court_nationality_custody_case_type"] == "pd-closures"
    calculator = rates.RateCalculator(sample_ingest, params.parse_window(*TRUTH["windows"][window]))
    for truth, frame, code in (
        ("nationalities", calculator.nationalities(), "nat"),
        ("custody", calculator.custody(), "custody"),
        ("case_types", calculator.case_types(), "case_type"),
    ):
        expected = {key: (c["pd_closures"], c["completions"]) for key, c in TRUTH["truth"][truth][window].items()}
        assert counts(frame, code) == expected, truth
    # Named from the sample's lookups: every nationality it uses is in tblLookupNationality.
    assert not calculator.nationalities()["nationality"].str.startswith("(").any()
