"""Comparing two releases: a later release made by hand from a tiny one, with known removals,
additions, recodings, moved dates and a court change; every count below is worked out by hand."""

import datetime as dt

import pandas as pd
import pytest
from tiny_release import proceeding, proceeding_line, write_release

from pdclosures import compare, ingest, release_format
from pdclosures.definition import Method, Window

FY2013 = Window(dt.date(2012, 10, 1), dt.date(2013, 9, 30))

OLD = [
    proceeding(1, court="SEA", comp="2013-01-15", other="Y"),  # unchanged PD closure
    proceeding(2, court="SEA", comp="2013-02-01", dec="X"),  # unchanged
    proceeding(3, court="TUC", comp="2013-03-01", other="Y"),  # removed
    proceeding(4, court="TUC", comp="2013-04-01", dec="X"),  # removed
    proceeding(5, court="HOU", comp="2013-05-01", dec="X"),  # recoded to Y
    proceeding(6, court="HOU", comp="2013-06-01", other="M"),  # recoded to a decision
    proceeding(7, court="NYC", comp="2013-07-01", dec="X"),  # completion moved out of the window
    proceeding(8, court="NYC", comp="2012-05-01", other="Y"),  # completion moved into the window
    proceeding(9, court="SEA", comp="2013-01-20", dec="X"),  # court changed to TUC
    proceeding(10, court="SEA", comp="2011-01-01", dec="X"),  # removed, outside the window: not counted
    proceeding(11, court="HOU", comp="2013-02-02", other="C"),  # change of venue: never counted
    proceeding(12, court="TUC", comp="2013-03-03", other="Y"),  # completion moved within the window
    proceeding(13, court="NYC", comp=""),  # pending, then completed as a PD closure
    proceeding(14, court="SEA", comp="2013-06-06", dec="X"),  # recoded to a transfer: leaves the completions
]


def later_rows():
    rows = {int(row["IDNPROCEEDING"]): dict(row) for row in OLD}
    for removed in (3, 4, 10):
        del rows[removed]
    rows[5].update(OTHER_COMP="Y", DEC_CODE="")
    rows[6].update(OTHER_COMP="", DEC_CODE="X")
    rows[7].update(COMP_DATE="2014-01-10 00:00:00.000")
    rows[8].update(COMP_DATE="2013-08-01 00:00:00.000")
    rows[9].update(BASE_CITY_CODE="TUC", HEARING_LOC_CODE="TUC")
    rows[12].update(COMP_DATE="2013-03-10 00:00:00.000")
    rows[13].update(COMP_DATE="2013-09-30 00:00:00.000", OTHER_COMP="Y")
    rows[14].update(OTHER_COMP="T", DEC_CODE="")
    rows[20] = proceeding(20, court="SEA", comp="2013-04-04", other="Y")  # added in the window
    rows[21] = proceeding(21, court="NYC", comp="2014-02-02", dec="X")  # added outside the window
    rows[22] = proceeding(22, court="TUC", comp="2013-05-05", other="T")  # added transfer: not counted
    return list(rows.values())


# Counted in FY2013 (completions exclude C and T; PD = Y, M, I):
#   old: 1Y 2 3Y 4 5 6M 7 9 12Y 14 -> 10 completions, 4 PD closures
#   new: 1Y 2 5Y 6 8Y 9 12Y 13Y 20Y -> 9 completions, 6 PD closures
EXPECTED_DIFF = {
    "only_in_old": 2,  # 3, 4 (10 is outside the window)
    "only_in_new": 1,  # 20 (21 outside the window, 22 a transfer)
    "pd_status_changed": 3,  # 5, 6, 13 (14: neither a PD closure before nor after)
    "comp_date_changed": 4,  # 7, 8, 12, 13
    "court_changed": 1,  # 9
}


@pytest.fixture()
def releases(tmp_path):
    old = write_release(tmp_path / "old" / "EOIR Case Data.zip", [proceeding_line(r) for r in OLD], zipped=True)
    new = write_release(
        tmp_path / "new" / "EOIR Case Data.zip", [proceeding_line(r) for r in later_rows()], zipped=True
    )
    return tmp_path, old, new


def comparison(tmp_path, old, new, window=FY2013, method=Method()):
    interim = tmp_path / "interim"
    return compare.Comparison(
        ingest.ingest_release(old, interim, progress=False),
        ingest.ingest_release(new, interim, progress=False),
        window,
        method,
    )


def test_diff_counts_and_national_differences_equal_the_planted_changes(releases):
    tmp_path, old, new = releases
    tables = comparison(tmp_path, old, new).all_tables()

    diff = tables["proceedings_diff"]
    assert diff.columns.tolist() == ["change", "proceedings"]
    assert dict(zip(diff["change"], diff["proceedings"])) == EXPECTED_DIFF
    assert diff["change"].tolist() == compare.CHANGES

    national = tables["national_compare"]
    assert national["release"].tolist() == ["old", "new", "difference"]
    assert national[["pd_closures", "completions"]].values.tolist() == [[4, 10], [6, 9], [2, -1]]
    assert national["pd_rate"].tolist() == pytest.approx([0.4, 6 / 9, 6 / 9 - 0.4])
    assert national.loc[0, "release_id"].startswith("eoir-case-data-")
    assert national.loc[0, "release_id"] != national.loc[1, "release_id"]
    assert national.loc[0, "checksum_sha256"] == __import__("hashlib").sha256(old.read_bytes()).hexdigest()

    courts = tables["courts_compare"]
    assert courts["base_city_code"].tolist() == ["NYC", "SEA", "TUC", "HOU"]  # |change in PD| then |change in n|
    by_court = courts.set_index("base_city_code")
    assert by_court.loc["NYC", "court"] == "New York, NY"
    expected = {  # pd old, n old, pd new, n new, changes
        "SEA": [1, 4, 2, 3, 1, -1],
        "TUC": [2, 3, 1, 2, -1, -1],
        "HOU": [1, 2, 1, 2, 0, 0],
        "NYC": [0, 1, 2, 2, 2, 1],
    }
    columns = ["pd_closures_old", "completions_old", "pd_closures_new", "completions_new"]
    columns += ["pd_closures_change", "completions_change"]
    assert by_court[columns].T.to_dict("list") == expected
    assert by_court.loc["NYC", "pd_rate_change"] == pytest.approx(1.0)

    sample = tables["changed_proceedings_sample"]
    assert sample.groupby("change", sort=False)["idnproceeding"].apply(list).to_dict() == {
        "only_in_old": [3, 4],
        "only_in_new": [20],
        "pd_status_changed": [5, 6, 13],
        "comp_date_changed": [7, 8, 12, 13],
        "court_changed": [9],
    }
    moved = sample[(sample["change"] == "comp_date_changed") & (sample["idnproceeding"] == 7)].iloc[0]
    assert (moved["COMP_DATE_old"], moved["COMP_DATE_new"]) == ("2013-07-01", "2014-01-10")
    recoded = sample[(sample["change"] == "pd_status_changed") & (sample["idnproceeding"] == 6)].iloc[0]
    assert (recoded["OTHER_COMP_old"], recoded["is_pd_old"], recoded["is_pd_new"]) == ("M", True, False)

    # Where the change of -1 completion comes from: 8, 13 entered by date and 20 was added; 3, 4 were
    # removed, 7 left by date and 14 by its recoding to T.
    flow = tables["window_flow"].set_index("reason")
    assert flow[["entered_window", "left_window"]].T.to_dict("list") == {
        "OTHER_COMP recoded": [0, 1],
        "added to the release": [1, 0],
        "completion date changed": [2, 1],
        "removed from the release": [0, 2],
    }
    assert flow["net_change"].sum() == national.loc[2, "completions"]


def test_the_method_and_window_are_the_runs(releases):
    tmp_path, old, new = releases
    national = comparison(tmp_path, old, new, method=Method(pd_codes=("Y",))).national()
    assert national[["pd_closures", "completions"]].values.tolist() == [[3, 10], [6, 9], [3, -1]]  # 6 was M
    by_case = comparison(tmp_path, old, new, method=Method(unit="case")).national()  # one proceeding per case
    assert by_case[["pd_closures", "completions"]].values.tolist() == [[4, 10], [6, 9], [2, -1]]
    seattle = comparison(tmp_path, old, new, method=Method(courts=("SEA",)))
    assert seattle.courts()["base_city_code"].tolist() == ["SEA"]
    # In Seattle: 1 2 9 14 before; 1 2 20 after -> 9 went to Tucson, 14 became a transfer, 20 was added
    assert seattle.proceedings_diff()["proceedings"].tolist() == [0, 1, 0, 0, 1]
    q1 = Window(dt.date(2012, 10, 1), dt.date(2013, 3, 31))
    diff = comparison(tmp_path, old, new, window=q1).proceedings_diff()
    # old in the window: 1 2 3 9 12; new: 1 2 9 12 -> 3 removed, 12 moved within it, 9 changed court
    assert dict(zip(diff["change"], diff["proceedings"])) == {
        "only_in_old": 1,
        "only_in_new": 0,
        "pd_status_changed": 0,
        "comp_date_changed": 1,
        "court_changed": 1,
    }


def test_a_release_of_another_layout_compares_the_same(releases):
    """The later release as an unpacked folder, lower-case file names, another folder, columns reordered."""
    tmp_path, old, new = releases
    columns = list(reversed(release_format.PROCEEDING_COLUMNS))
    folder = write_release(
        tmp_path / "new-folder",
        [proceeding_line(r, columns) for r in later_rows()],
        folder="eoir_case_data_2026/",
        lower_case=True,
        header="\t".join(columns),
    )
    zipped = comparison(tmp_path, old, new).all_tables()
    unpacked = comparison(tmp_path, old, folder).all_tables()
    for name in ("proceedings_diff", "courts_compare", "changed_proceedings_sample", "window_flow"):
        pd.testing.assert_frame_equal(zipped[name], unpacked[name])
    columns = ["release", "pd_closures", "completions", "pd_rate"]
    pd.testing.assert_frame_equal(zipped["national_compare"][columns], unpacked["national_compare"][columns])


def test_the_compare_notebook_is_committed_clean_with_the_comparisons_parameters():
    import ast

    import nbformat

    from pdclosures import pipeline

    notebook = nbformat.read(pipeline.PROJECT_ROOT / "notebooks" / compare.COMPARE_NOTEBOOK, as_version=4)
    assert all(c.outputs == [] and c.execution_count is None for c in notebook.cells if c.cell_type == "code")
    (cell,) = [c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])]
    declared = {node.targets[0].id: ast.literal_eval(node.value) for node in ast.parse(cell.source).body}
    assert set(declared) == set(compare.DEFAULTS) | {"interim_dir", "processed_dir", "figures_dir"}
    for side in ("old", "new"):  # relative to notebooks/, where a notebook opened by hand runs
        assert (pipeline.PROJECT_ROOT / "notebooks" / declared[side]).resolve() == (
            pipeline.PROJECT_ROOT / compare.DEFAULTS[side]
        )


def test_a_preset_gives_the_window_and_method_and_explicit_values_win(tmp_path):
    preset = tmp_path / "p.yaml"
    preset.write_text("release: other.zip\nstart: 2011-10-01\nend: 2012-09-30\npd_codes: [Y]\n")
    values = compare.resolve(str(preset), end="2012-06-30")
    assert (values["start"], values["end"], values["pd_codes"], values["run"]) == ("2011-10-01", "2012-06-30", "Y", "")
    assert values["old"] == compare.DEFAULTS["old"] and "release" not in values


def test_the_figure_states_the_national_change_and_draws_each_changed_court(releases, tmp_path):
    from pdclosures import figures

    tmp, old, new = releases
    tables = comparison(tmp, old, new).all_tables()
    ctx = figures.Context(FY2013, Method(), 100, "old.zip (old) and new.zip (new)", True)
    fig = figures.release_change(tables["courts_compare"], tables["national_compare"], ctx)
    title = fig.texts[0].get_text().replace("\n", " ")
    assert "PD closures nationally changed by +2 (4 to 6) and completions by \u22121 (10 to 9)" in title
    assert title.endswith("the PD rate went from 40.0% to 66.7%")
    # Houston's counts did not change: not drawn
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == ["New York, NY", "Seattle, WA", "Tucson, AZ"]
    assert sum(t.get_text() == figures.WATERMARK for t in fig.texts) == 1
    first = [p.read_bytes() for p in figures.save(fig, tmp_path / "a", "compare_courts_change")]
    again = figures.release_change(tables["courts_compare"], tables["national_compare"], ctx)
    assert [p.read_bytes() for p in figures.save(again, tmp_path / "b", "compare_courts_change")] == first

    unchanged = tables["courts_compare"].assign(pd_closures_change=0, completions_change=0)
    fig = figures.release_change(unchanged, tables["national_compare"], ctx)
    assert any("No court's counts changed" in t.get_text() for ax in fig.axes for t in ax.texts)
