"""The pipeline recovers the synthetic sample's planted truth exactly.

data/sample/sample_manifest.json is written by the generator from its own records, independently
of the pipeline: the line accounting, junk dates per column, and the counts under the default
method, nationally, per court and per fiscal year."""

import json
from pathlib import Path

import pytest

from pdclosures import ingest, params, rates, release_format

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
    calculator = rates.RateCalculator(ingested, params.parse_window("2010-10-01", "2015-09-30"))
    found = counts(calculator.fiscal_years().assign(fy=lambda f: "FY" + f["fiscal_year"].astype(str)), "fy")
    planted = {fy: {k: v[k] for k in ("pd_closures", "completions")} for fy, v in TRUTH["by_fiscal_year"].items()}
    assert found == planted
