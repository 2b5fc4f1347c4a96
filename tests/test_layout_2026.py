"""The whole chain (what `make all` runs) on a release in the April 2026 layout, zipped and unpacked:
`EOIR Case Data 2026-0401/EOIR Case Data/B_TblProceeding.csv` (no Data/ folder) and
`.../EOIR Case Data/Lookup/<lookup>.csv`, with a hearing-location code listed for two courts."""

import pandas as pd
import pytest
from tiny_release import lookup_lines, proceeding, proceeding_line, write_release

from pdclosures import params, pipeline, release, release_format

pytestmark = pytest.mark.slow

FOLDER = "EOIR Case Data 2026-0401/EOIR Case Data/"
HLOC = [
    {"idnHloc": "1", "HEARING_LOC_CODE": "IAD", "HEARING_LOC_NAME": "IAD HLOC -SEA, WASHINGTON",
     "HEARING_CITY": "SEATTLE", "HEARING_STATE": "WA", "HEARING_BASE_CITY": "SEA", "CircuitCourt": "9",
     "blnActive": "1"},
    {"idnHloc": "2", "HEARING_LOC_CODE": "IAD", "HEARING_LOC_NAME": "IAD HLOC -HOU, TEXAS",
     "HEARING_CITY": "HOUSTON", "HEARING_STATE": "TX", "HEARING_BASE_CITY": "HOU", "CircuitCourt": "5",
     "blnActive": "1"},
]  # fmt: skip
ROWS = [
    proceeding(1, court="SEA", hloc="IAD", comp="2013-01-10", other="Y"),
    proceeding(2, court="SEA", hloc="IAD", comp="2013-02-10", dec="X"),
    proceeding(3, court="HOU", hloc="IAD", comp="2013-03-10", dec="X"),
]


@pytest.mark.parametrize("zipped", [True, False], ids=["zip", "folder"])
def test_make_all_runs_on_the_2026_layout(tmp_path, zipped):
    name = "EOIR Case Data.zip" if zipped else "EOIR Case Data 2026-0401"
    path = write_release(
        tmp_path / "raw" / name,
        [proceeding_line(r) for r in ROWS],
        zipped=zipped,
        folder=FOLDER if zipped else "EOIR Case Data/",
        lookups={release_format.HLOC_TABLE: lookup_lines(release_format.HLOC_TABLE, HLOC)},
    )
    opened = release.open_release(path)
    assert opened.member(release_format.PROCEEDING_TABLE).endswith("EOIR Case Data/B_TblProceeding.csv")
    assert "/Data/" not in opened.member(release_format.PROCEEDING_TABLE)
    opened.close()
    paths = pipeline.Paths(tmp_path / "project", notebooks=pipeline.PROJECT_ROOT / "notebooks")
    values = params.resolve(release=str(path), start="2012-10-01", end="2013-09-30", run="fy2013", min_completions=1)
    out = pipeline.run(values, paths, log=lambda *_: None)

    # By hand: three completions, one PD closure (row 1); IAD is Seattle's at SEA, Houston's at HOU.
    national = pd.read_csv(out / "national.csv").iloc[0]
    assert (national["pd_closures"], national["completions"]) == (1, 3)
    locations = pd.read_csv(out / "hearing_locations.csv").set_index(["hearing_loc_code", "base_city_code"])
    assert locations.loc[("IAD", "SEA"), ["hearing_city", "pd_closures", "completions"]].tolist() == ["SEATTLE", 1, 2]
    assert locations.loc[("IAD", "HOU"), ["hearing_city", "pd_closures", "completions"]].tolist() == ["HOUSTON", 0, 1]
    circuits = pd.read_csv(out / "circuits.csv", dtype={"circuit": str}).set_index("circuit")
    assert circuits[["pd_closures", "completions"]].to_dict("index") == {
        "9": {"pd_closures": 1, "completions": 2},
        "5": {"pd_closures": 0, "completions": 1},
    }
