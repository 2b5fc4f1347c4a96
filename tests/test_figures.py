"""Figures: every figure renders on realistic, single-court, zero-PD and empty runs;
files are byte-identical across renders; the synthetic watermark appears only when synthetic."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pdclosures import charts, figures

START, END = "2012-10-01", "2014-03-31"

# (code, court, state, circuit, size weight, PD rate) -- fabricated numbers, real-looking names.
COURTS = [
    ("ARL", "Arlington, VA", "VA", "4", 9, 0.05), ("ATL", "Atlanta, GA", "GA", "11", 10, 0.02),
    ("BAL", "Baltimore, MD", "MD", "4", 7, 0.06), ("BTV", "Batavia, NY", "NY", "2", 3, 0.03),
    ("BLM", "Bloomington, MN", "MN", "8", 6, 0.07), ("BOS", "Boston, MA", "MA", "1", 9, 0.09),
    ("BUF", "Buffalo, NY", "NY", "2", 2, 0.05), ("CHL", "Charlotte, NC", "NC", "4", 7, 0.03),
    ("CHI", "Chicago, IL", "IL", "7", 12, 0.08), ("CLE", "Cleveland, OH", "OH", "6", 5, 0.04),
    ("DAL", "Dallas, TX", "TX", "5", 11, 0.03), ("DEN", "Denver, CO", "CO", "10", 8, 0.12),
    ("DET", "Detroit, MI", "MI", "6", 5, 0.06), ("ELP", "El Paso, TX", "TX", "5", 6, 0.04),
    ("ELZ", "Elizabeth, NJ", "NJ", "3", 3, 0.02), ("ELO", "Eloy, AZ", "AZ", "9", 6, 0.01),
    ("FLO", "Florence, AZ", "AZ", "9", 3, 0.02), ("HAR", "Harlingen, TX", "TX", "5", 8, 0.02),
    ("HAT", "Hartford, CT", "CT", "2", 3, 0.10), ("HON", "Honolulu, HI", "HI", "9", 0.4, 0.08),
    ("HOU", "Houston, TX", "TX", "5", 14, 0.03), ("IMP", "Imperial, CA", "CA", "9", 3, 0.05),
    ("KAN", "Kansas City, MO", "MO", "8", 6, 0.08), ("LAN", "Lancaster, CA", "CA", "9", 2, 0.04),
    ("LVG", "Las Vegas, NV", "NV", "9", 5, 0.11), ("LOS", "Los Angeles, CA", "CA", "9", 20, 0.08),
    ("LUM", "Lumpkin, GA", "GA", "11", 5, 0.005), ("MEM", "Memphis, TN", "TN", "6", 6, 0.04),
    ("MIA", "Miami, FL", "FL", "11", 14, 0.06), ("NOL", "New Orleans, LA", "LA", "5", 6, 0.05),
    ("NYC", "New York, NY", "NY", "2", 22, 0.09), ("NEW", "Newark, NJ", "NJ", "3", 10, 0.07),
    ("OAK", "Oakdale, LA", "LA", "5", 4, 0.01), ("OMA", "Omaha, NE", "NE", "8", 5, 0.07),
    ("ORL", "Orlando, FL", "FL", "11", 8, 0.06), ("OTY", "Otay Mesa, CA", "CA", "9", 4, 0.03),
    ("PHI", "Philadelphia, PA", "PA", "3", 7, 0.08), ("PHO", "Phoenix, AZ", "AZ", "9", 8, 0.13),
    ("POO", "Portland, OR", "OR", "9", 4, 0.18), ("SLC", "Salt Lake City, UT", "UT", "10", 5, 0.14),
    ("SNA", "San Antonio, TX", "TX", "5", 10, 0.03), ("SND", "San Diego, CA", "CA", "9", 7, 0.10),
    ("SFR", "San Francisco, CA", "CA", "9", 16, 0.12), ("SEA", "Seattle, WA", "WA", "9", 7, 0.29),
    ("TAC", "Tacoma, WA", "WA", "9", 5, 0.04), ("TUC", "Tucson, AZ", "AZ", "9", 4, 0.31),
    ("YOR", "York, PA", "PA", "3", 4, 0.03), ("GUA", "Guaynabo, PR", "PR", "1", 0.5, 0.05),
    ("SPN", "Saipan, MP", "MP", "9", 0.05, 0.10), ("ZZZ", "(unknown code ZZZ)", None, "(unknown)",
                                                     0.03, 0.0),
]
REGION = {"1": "Northeast", "2": "Northeast", "3": "Northeast", "4": "Southeast",
          "11": "Southeast", "5": "South Central", "6": "Midwest", "7": "Midwest",
          "8": "Midwest", "10": "West", "9": "West", "(unknown)": "(unknown)"}
LOCATION_NAMES = ["Main Street Courthouse", "Federal Building", "Processing Center",
                  "Detention Facility", "County Jail", "Contract Detention Center",
                  "Service Processing Center", "State Prison IHP", "Juvenile Shelter",
                  "Federal Correctional Institution", "Annex", "Satellite Court"]


def wilson(k, n, z=1.959964):
    k, n = np.asarray(k, float), np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1 + z ** 2 / n
        centre = (p + z ** 2 / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z ** 2 / (4 * n ** 2)) / den
        lo, hi = centre - half, centre + half
    bad = n <= 0
    return (np.where(bad, np.nan, p), np.where(bad, np.nan, np.clip(lo, 0, 1)),
            np.where(bad, np.nan, np.clip(hi, 0, 1)))


def with_rates(df: pd.DataFrame) -> pd.DataFrame:
    df = df.copy()
    df["pd_rate"], df["ci_low"], df["ci_high"] = wilson(df["pd_closures"], df["completions"])
    return df


def aggregate(df, key):
    g = df.groupby(key, dropna=False, sort=True)[["pd_closures", "completions"]].sum()
    return with_rates(g.reset_index())


def make_tables(kind: str = "realistic", seed: int = 7) -> dict[str, pd.DataFrame]:
    """Processed tables like the rates stage writes: realistic, single, zero_pd or empty."""
    rng = np.random.default_rng(seed)
    months = pd.period_range("2012-10", "2014-03", freq="M")
    courts = {"realistic": COURTS,
              "zero_pd": [c for c in COURTS if c[0] in ("SEA", "TUC", "NYC", "LOS", "HAR", "SPN")],
              "single": [c for c in COURTS if c[0] == "SEA"]}.get(kind, [])
    loc_rows = []
    month_rows = {m: [0, 0] for m in months}
    for code, court, state, circuit, weight, rate in courts:
        n_locs = 1 if weight < 1 else int(rng.integers(1, 13 if weight > 10 else 6))
        for j in range(n_locs):
            share = (0.6 if j == 0 else 0.4 / max(1, n_locs - 1))
            comp = int(round(weight * 1000 * share * rng.uniform(0.6, 1.4)))
            r = 0.0 if kind == "zero_pd" else min(0.9, rate * rng.uniform(0.5, 1.6))
            pdc = int(rng.binomial(comp, r)) if comp else 0
            name = court.split(",")[0] + " " + LOCATION_NAMES[j % len(LOCATION_NAMES)]
            loc_rows.append(dict(hearing_loc_code=f"{code}{j:02d}", hearing_location=name.upper(),
                                 hearing_city=court.split(",")[0].upper(), hearing_state=state,
                                 base_city_code=code, court=court, pd_closures=pdc,
                                 completions=comp))
            for i, m in enumerate(months):
                month_rows[m][0] += pdc / len(months) * (0.6 + 0.8 * i / len(months))
                month_rows[m][1] += comp / len(months)
    cols_loc = ["hearing_loc_code", "hearing_location", "hearing_city", "hearing_state",
                "base_city_code", "court", "pd_closures", "completions"]
    locs = with_rates(pd.DataFrame(loc_rows, columns=cols_loc))
    meta = pd.DataFrame([dict(base_city_code=c[0], court=c[1], state=c[2], circuit=c[3])
                         for c in courts], columns=["base_city_code", "court", "state", "circuit"])
    courts_df = aggregate(locs, "base_city_code").merge(meta, on="base_city_code", how="left")
    courts_df = courts_df[["base_city_code", "court", "state", "pd_closures", "completions",
                           "pd_rate", "ci_low", "ci_high"]]
    states = aggregate(courts_df, "state")[["state", "pd_closures", "completions", "pd_rate",
                                            "ci_low", "ci_high"]]
    circ = aggregate(courts_df.merge(meta[["base_city_code", "circuit"]]), "circuit")
    reg = courts_df.merge(meta[["base_city_code", "circuit"]])
    reg["region"] = reg["circuit"].map(REGION)
    regions = aggregate(reg, "region")
    m = pd.DataFrame([dict(month=str(p), fiscal_year=p.year + (1 if p.month >= 10 else 0),
                           pd_closures=int(round(v[0])), completions=int(round(v[1])))
                      for p, v in month_rows.items()])
    m = with_rates(m)
    fy = m.groupby("fiscal_year", as_index=False)[["pd_closures", "completions"]].sum()
    fy["period_start"] = ["2012-10-01", "2013-10-01"]
    fy["period_end"] = ["2013-09-30", "2014-03-31"]
    fy["partial"] = [False, True]
    if kind == "empty":
        fy = fy.iloc[0:0]
    fy = with_rates(fy)[["fiscal_year", "period_start", "period_end", "partial", "pd_closures",
                         "completions", "pd_rate", "ci_low", "ci_high"]]
    nat = with_rates(pd.DataFrame([dict(start=START, end=END,
                                        pd_closures=int(m["pd_closures"].sum()),
                                        completions=int(m["completions"].sum()))]))
    return dict(national=nat, fiscal_years=fy, months=m, courts=courts_df, hearing_locations=locs,
                states=states, circuits=circ, regions=regions)


def write_run(folder: Path, kind: str = "realistic", synthetic: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in make_tables(kind).items():
        df.to_csv(folder / f"{name}.csv", index=False)
    (folder / "ingest.json").write_text(json.dumps(
        {"release_name": "synthetic-sample" if synthetic else "EOIR case data",
         "release_date": None if synthetic else "2024-06-01", "synthetic": synthetic}))
    return folder


def render(processed: Path, out: Path, **kw):
    args = dict(start=START, end=END, pd_codes="Y,M,I", excluded_codes="C,T",
                unit="proceeding", min_completions=100)
    args.update(kw)
    return figures.render_all(processed, out, **args)


EXPECTED = ["01_courts_ranked", "02_monthly_trend", "03_fiscal_years", "04_states_circuits",
            "05_hearing_locations"] + (["06_court_map"] if figures.map_available() else [])


# The publication resolution (200 dpi) is checked on the single-court run; the other runs check
# the drawing logic at a lower resolution to keep the suite fast.
FAST_DPI = 72


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


def assert_pngs(folder: Path, min_bytes: int = 15_000, dpi: int = 200):
    for stem in EXPECTED:
        f = folder / f"{stem}.png"
        assert f.exists(), f
        assert f.stat().st_size > min_bytes * (dpi / 200) ** 2, f
        w, h = png_size(f)
        assert w >= 7.5 * dpi and h >= 2.5 * dpi, (f, w, h)  # figures >= 7.5 x 2.5 in


@pytest.fixture(scope="module")
def single_run(tmp_path_factory):
    """One synthetic single-court run rendered in every format (shared: rendering is slow)."""
    root = tmp_path_factory.mktemp("single")
    processed = write_run(root / "processed", "single", synthetic=True)
    paths = render(processed, root / "figs")
    return processed, root / "figs", paths


def test_single_court_all_formats(single_run):
    _, figs, paths = single_run
    assert [p.name for p in paths] == [f"{s}.{e}" for s in EXPECTED for e in ("png", "svg", "pdf")]
    for p in paths:
        assert p.stat().st_size > 5_000, p
    assert_pngs(figs)
    assert (figs / "01_courts_ranked.pdf").read_bytes().startswith(b"%PDF")
    assert "<svg" in (figs / "01_courts_ranked.svg").read_text()


def test_render_is_byte_identical(single_run, tmp_path):
    processed, figs, _ = single_run
    only = ["01_courts_ranked"]  # a second full render would double the slowest test
    again = render(processed, tmp_path / "again", only=only)
    assert len(again) == 3 * len(only)
    for p in again:
        assert p.read_bytes() == (figs / p.name).read_bytes(), p.name


def test_no_dates_or_versions_in_files(single_run):
    _, figs, _ = single_run
    svg = (figs / "01_courts_ranked.svg").read_text()
    assert "<dc:date>" not in svg and "Matplotlib v" not in svg
    pdf = (figs / "01_courts_ranked.pdf").read_bytes()
    assert b"/CreationDate" not in pdf and b"/Producer" not in pdf
    assert b"Software" not in (figs / "01_courts_ranked.png").read_bytes()


def test_figures_module_leaves_matplotlib_and_pandas_to_the_workers():
    """Notebook 03's kernel imports figures only to hand the figures out to worker processes;
    importing matplotlib and pandas there as well would cost it about 2 CPU-seconds."""
    code = "import sys, pdclosures.figures; print(sorted({'matplotlib', 'pandas'} & set(sys.modules)))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert loaded.strip() == "[]"


def test_realistic_run(tmp_path):
    processed = write_run(tmp_path / "processed", "realistic")
    paths = render(processed, tmp_path / "figs", formats=("png",), dpi=FAST_DPI)
    assert [p.stem for p in paths] == EXPECTED
    assert_pngs(tmp_path / "figs", min_bytes=60_000, dpi=FAST_DPI)
    # the ranked-courts figure grows with the number of courts
    w, h = png_size(tmp_path / "figs" / "01_courts_ranked.png")
    assert h > 1.3 * w


def test_zero_pd_closures(tmp_path):
    processed = write_run(tmp_path / "processed", "zero_pd")
    paths = render(processed, tmp_path / "figs", formats=("png",), dpi=FAST_DPI)
    assert [p.stem for p in paths] == EXPECTED
    assert_pngs(tmp_path / "figs", dpi=FAST_DPI)


def test_zero_completions_and_no_watermark_when_real(single_run, tmp_path):
    """A real (non-synthetic) run with no completions: months present with zeros, the other
    tables header-only. Every figure says so, and none is stamped SYNTHETIC."""
    _, synth_figs, _ = single_run
    processed = write_run(tmp_path / "processed", "empty", synthetic=False)
    fy = pd.read_csv(processed / "fiscal_years.csv")
    assert len(fy) == 0
    assert len(pd.read_csv(processed / "courts.csv")) == 0
    assert pd.read_csv(processed / "months.csv")["completions"].sum() == 0
    paths = render(processed, tmp_path / "figs", formats=("png", "svg"), dpi=FAST_DPI)
    assert [p.name for p in paths] == [f"{s}.{e}" for s in EXPECTED for e in ("png", "svg")]
    assert_pngs(tmp_path / "figs", min_bytes=5_000, dpi=FAST_DPI)
    for stem in EXPECTED:
        s = (synth_figs / f"{stem}.svg").read_text()
        r = (tmp_path / "figs" / f"{stem}.svg").read_text()
        assert charts.NO_DATA_TEXT in r, stem
        assert charts.WATERMARK_TEXT in s and 'id="synthetic-watermark"' in s, stem
        assert charts.WATERMARK_TEXT not in r and "synthetic-watermark" not in r, stem
        assert "Synthetic sample data" in s and "Synthetic sample data" not in r, stem
        assert "EOIR case-data release 2024-06-01" in r, stem


def test_note_is_built_from_arguments():
    ctx = charts.FigureContext.build(start="2013-01-01", end="2013-06-30", pd_codes="Y",
                                     excluded_codes="", unit="case", min_completions=50,
                                     release_name="May 2024", release_date=None)
    note = ctx.note()
    assert "EOIR case-data release May 2024" in note
    assert "Window 2013-01-01\u20132013-06-30" in note
    assert "OTHER_COMP in {Y}" in note and "unit: case" in note
    assert "95% Wilson intervals" in note and "Synthetic" not in note
    ctx = charts.FigureContext.build(start=START, end=END, release_name="x",
                                     release_date="2014-04-01", synthetic=True)
    note = ctx.note()
    assert note.startswith("Synthetic sample data")
    assert "release 2014-04-01" in note
    assert "OTHER_COMP in {Y, M, I}" in note
    assert "change of venue (C) and transfer (T)" in note


def test_text_columns_stay_text(tmp_path):
    processed = write_run(tmp_path / "processed", "realistic")
    t = charts.load_tables(processed)
    assert set(t["circuits"]["circuit"]) >= {"9", "(unknown)"}
    assert t["fiscal_years"]["partial"].tolist() == [False, True]
    assert t["courts"]["state"].isna().sum() == 1  # the unknown code has no state
    assert t["courts"]["state"].dropna().map(type).eq(str).all()


def test_missing_inputs_are_user_errors(tmp_path):
    from pdclosures.errors import UserError
    processed = write_run(tmp_path / "processed", "empty")
    (processed / "ingest.json").unlink()
    with pytest.raises(UserError, match="ingest.json"):
        render(processed, tmp_path / "figs")
    processed = write_run(tmp_path / "p2", "empty")
    (processed / "courts.csv").unlink()
    with pytest.raises(UserError, match="courts.csv"):
        render(processed, tmp_path / "figs")
    with pytest.raises(ValueError, match="unknown figure"):
        render(write_run(tmp_path / "p3", "empty"), tmp_path / "figs", only=["99_nope"])


def test_policy_dates_reference_file():
    df = charts.read_policy_dates()
    assert list(df.columns) == ["date", "label", "source_url"]
    assert len(df) >= 4
    assert df["source_url"].str.startswith("https://").all()
    assert "2011-06-17" in set(df["date"].dt.strftime("%Y-%m-%d"))


def test_policy_dates_inside_window_are_annotated(tmp_path):
    processed = write_run(tmp_path / "processed", "single")
    pol = tmp_path / "pol.csv"
    pol.write_text("date,label,source_url\n2013-06-01,Test policy,https://example.org/x\n"
                   "2010-01-01,Outside,https://example.org/y\n")
    render(processed, tmp_path / "figs", policy_dates=pol, formats=("svg",),
           only=["02_monthly_trend"])
    svg = (tmp_path / "figs" / "02_monthly_trend.svg").read_text()
    assert "Test policy" in svg and "Outside" not in svg
