"""The pipeline recovers the synthetic sample's planted truth exactly.

data/sample/sample_manifest.json is written by the generator from its own records, independently
of the pipeline: the line accounting, junk dates per column, and the counts under the default
method, nationally, per court, per fiscal year, per month over the whole release (long_run) and on
the pending-at-start basis (pending_by_nationality, summed). The truths that need the definition
parameter, the new cached columns or the new tables (pd-dismissals, nationalities, custody, case
types) are checked by the tests of those features."""

import json
from pathlib import Path

import pytest

from pdclosures import ingest, params, rates, release_format, validation

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
MANIFEST = json.loads((SAMPLE / "sample_manifest.json").read_text())
TRUTH = MANIFEST["truth"]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    return ingest.ingest_release(
        SAMPLE / "eoir_synthetic_sample.zip", tmp_path_factory.mktemp("interim"), progress=False
    )


def counts(frame, key):
    return {
        row[key]: {"pd_closures": int(row["pd_closures"]), "completions": int(row["completions"])}
        for _, row in frame.iterrows()
    }


def test_the_sample_is_labelled_synthetic(ingested):
    assert MANIFEST["synthetic"] is True and ingested.manifest["synthetic"] is True


def test_row_accounting_matches_the_planted_quirks(ingested):
    planted = MANIFEST["proceedings_lines"]
    row = ingested.accounting.set_index("table").loc[release_format.PROCEEDING_TABLE]
    assert (row["lines"], row["loaded"], row["repaired"], row["quarantined"]) == (
        planted["lines"],
        planted["expected_loaded"],
        planted["expected_repaired"],
        planted["expected_quarantined"],
    )
    junk = ingested.data_quality.query("issue == 'junk date set to null'").set_index("column")["rows"].to_dict()
    assert junk == MANIFEST["quirks"]["junk_dates"]


@pytest.mark.parametrize("window", sorted(MANIFEST["windows"]))
def test_national_counts_per_window(ingested, window):
    calculator = rates.RateCalculator(ingested, params.parse_window(*MANIFEST["windows"][window]))
    assert counts(calculator.national().assign(key=window), "key") == {window: TRUTH["national"][window]}


@pytest.mark.parametrize("window", sorted(TRUTH["by_court"]))
def test_court_counts_per_window(ingested, window):
    calculator = rates.RateCalculator(ingested, params.parse_window(*MANIFEST["windows"][window]))
    assert counts(calculator.courts(), "base_city_code") == TRUTH["by_court"][window]


def test_fiscal_year_counts(ingested):
    span = MANIFEST["span"]
    calculator = rates.RateCalculator(ingested, params.parse_window(span["first_completion"], span["last_completion"]))
    found = counts(calculator.fiscal_years().assign(fy=lambda f: "FY" + f["fiscal_year"].astype(str)), "fy")
    planted = {fy: {k: v[k] for k in ("pd_closures", "completions")} for fy, v in TRUTH["by_fiscal_year"].items()}
    assert found == planted


@pytest.mark.parametrize("window", sorted(TRUTH["by_circuit"]))
def test_circuit_counts_per_window(ingested, window):
    # The shared code IAD has a row per court (and an inactive duplicate for SEA in circuit 1):
    # the circuits come out right only if each IAD proceeding gets its own court's active row.
    calculator = rates.RateCalculator(ingested, params.parse_window(*MANIFEST["windows"][window]))
    assert counts(calculator.circuits(), "circuit") == TRUTH["by_circuit"][window]


@pytest.mark.parametrize("window", sorted(TRUTH["by_court_at_IAD"]))
def test_the_shared_hearing_code_gives_each_court_its_own_location(ingested, window):
    calculator = rates.RateCalculator(ingested, params.parse_window(*MANIFEST["windows"][window]))
    frame = calculator.hearing_locations().query("hearing_loc_code == 'IAD'")
    found = {
        row["base_city_code"]: {
            "pd_closures": int(row["pd_closures"]),
            "completions": int(row["completions"]),
            "hearing_location": row["hearing_location"],
        }
        for _, row in frame.iterrows()
    }
    planted = {
        code: {
            "pd_closures": v["pd_closures"],
            "completions": v["completions"],
            "hearing_location": f"IAD HLOC -{code}, {ingested_city(ingested, code)}",
        }
        for code, v in TRUTH["by_court_at_IAD"][window].items()
        if v["completions"]
    }
    assert found == planted


def ingested_city(ingested, code):
    import pandas as pd

    lookup = pd.read_parquet(ingested.lookup_path(release_format.BASE_CITY_TABLE))
    return lookup.set_index("BASE_CITY_CODE").loc[code, "BASE_CITY"]


def test_repeated_lookup_keys_are_counted(ingested):
    quality = ingested.data_quality
    repeated = quality[quality["issue"].str.startswith("repeated key")]
    assert dict(zip(repeated["table"], repeated["rows"])) == MANIFEST["quirks"]["repeated_lookup_keys"]
    courts = pd_courts(ingested)
    assert courts["SEA"] == "Seattle, WA"  # not the inactive OLD SEATTLE, ZZ


def pd_courts(ingested):
    calculator = rates.RateCalculator(ingested, params.parse_window(*MANIFEST["windows"]["trac-2014"]))
    return dict(zip(calculator.courts()["base_city_code"], calculator.courts()["court"]))


def test_monthly_counts_over_the_whole_release(ingested):
    span = MANIFEST["span"]
    calculator = rates.RateCalculator(ingested, params.parse_window(span["first_completion"], span["last_completion"]))
    found = counts(calculator.months().fillna(0), "month")
    assert found == TRUTH["long_run"]["pd-closures"]
    assert len(found) == 14 * 12


@pytest.mark.parametrize("window", ["trac-2012-nationality", "trac-2014", "doyle"])
def test_pending_at_start_summed_over_nationalities(ingested, window):
    calculator = rates.RateCalculator(ingested, params.parse_window(*MANIFEST["windows"][window]))
    row = validation.pending_at_start(calculator).iloc[0]
    planted = TRUTH["pending_by_nationality"][window].values()
    assert (int(row["pd_closures"]), int(row["completions"])) == (
        sum(v["pd_closures"] for v in planted),
        sum(v["pending_at_start"] for v in planted),
    )
