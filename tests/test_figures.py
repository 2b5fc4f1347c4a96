"""Figures: what a reader sees, read from the Figure objects of small hand-built tables.

Expected values (orders, rates, counts) are worked out by hand in the comments, not by the code under test."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from dataclasses import replace

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from pdclosures import figures, ingest, params
from pdclosures.definition import Method, Window
from pdclosures.errors import ReleaseError
from pdclosures.rates import wilson_interval

CTX = figures.Context(
    window=Window(dt.date(2012, 10, 1), dt.date(2014, 3, 31)),
    method=Method(),
    min_completions=100,
    release_label="EOIR case data, published 2024-06-01",
    synthetic=False,
)
VERMILLION, BLUE, GREY, DARK = (
    matplotlib.colors.to_rgb(c) for c in (figures.VERMILLION, figures.BLUE, figures.GREY, figures.DARK)
)
# seaborn 0.13.2 passes pandas 3 a deprecated argument; nothing of ours.
pytestmark = pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:DeprecationWarning")


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def with_rates(rows: list[tuple], columns: list[str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=[*columns, "pd_closures", "completions"])
    frame["pd_rate"] = np.where(
        frame["completions"] > 0, frame["pd_closures"] / frame["completions"].clip(lower=1), np.nan
    )
    frame["ci_low"], frame["ci_high"] = wilson_interval(frame["pd_closures"], frame["completions"])
    return frame


# Scrambled on purpose. Rates: TUC 30/100 = 30%, SEA 50/200 = 25%, LOS 40/400 = 10%, SFR 20/200 = 10%,
# NYC 10/400 = 2.5%; under 100 completions: HON 5/10 = 50%, GUA 1/50 = 2%; SPN has none.
COURTS = with_rates(
    [
        ("NYC", "New York, NY", "NY", 10, 400),
        ("HON", "Honolulu, HI", "HI", 5, 10),
        ("SPN", "Saipan, MP", "MP", 0, 0),
        ("SFR", "San Francisco, CA", "CA", 20, 200),
        ("TUC", "Tucson, AZ", "AZ", 30, 100),
        ("GUA", "Guaynabo, PR", "PR", 1, 50),
        ("LOS", "Los Angeles, CA", "CA", 40, 400),
        ("SEA", "Seattle, WA", "WA", 50, 200),
    ],
    ["base_city_code", "court", "state"],
)
NATIONAL = with_rates([("2012-10-01", "2014-03-31", 100, 2000)], ["start", "end"])  # 5.0%
# By hand: the five courts with at least 100 completions by rate (LOS before SFR: same 10%, more completions),
# a blank row, then the smaller ones by rate, the court without completions last.
RANKED = [
    "Tucson, AZ",
    "Seattle, WA",
    "Los Angeles, CA",
    "San Francisco, CA",
    "New York, NY",
    "",
    "Honolulu, HI",
    "Guaynabo, PR",
    "Saipan, MP",
]


def texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text)]


def tick_labels(ax) -> list[str]:
    return [label.get_text() for label in ax.get_yticklabels()]


def right_labels(ax) -> list[str]:
    return [label.get_text() for label in ax.child_axes[0].get_yticklabels()]


def dots(ax) -> dict[int, tuple]:
    """Row position -> (rate in percent, edge colour) of each dot of a ranked panel."""
    points = next(c for c in ax.collections if isinstance(c, matplotlib.collections.PathCollection))
    edges = [matplotlib.colors.to_rgb(c) for c in points.get_edgecolors()]
    return {int(round(y)): (x, edge) for (x, y), edge in zip(points.get_offsets(), edges)}


def line(ax, gid: str):
    return next(artist for artist in ax.get_lines() if artist.get_gid() == gid)


# --------------------------------------------------------------------------------------------
# 01 Courts ranked


def test_courts_are_ranked_by_rate_with_small_courts_set_apart_below():
    fig = figures.courts_ranked(COURTS, NATIONAL, CTX)
    ax = fig.axes[0]
    assert tick_labels(ax) == RANKED
    assert right_labels(ax) == ["n=100", "n=200", "n=400", "n=200", "n=400", "", "n=10", "n=50", "no completions"]
    rule = line(ax, "small-n-rule")
    assert rule.get_ydata()[0] == 5  # the blank row between New York (4) and Honolulu (6)
    assert any(t.startswith("Below: fewer than 100 completions") for t in texts(fig))
    small = [
        label
        for label in ax.get_yticklabels()
        if label.get_text() and matplotlib.colors.to_rgb(label.get_color()) == GREY
    ]
    assert [label.get_text() for label in small] == ["Honolulu, HI", "Guaynabo, PR", "Saipan, MP"]
    points = dots(ax)
    assert sorted(points) == [0, 1, 2, 3, 4, 6, 7]  # Saipan has no rate to draw
    assert [round(points[i][0], 6) for i in (0, 1, 2, 3, 4, 6, 7)] == [30.0, 25.0, 10.0, 10.0, 2.5, 50.0, 2.0]
    assert points[6][1] == GREY and points[7][1] == GREY


def test_tucson_and_seattle_and_only_they_are_highlighted():
    fig = figures.courts_ranked(COURTS, NATIONAL, CTX)
    ax = fig.axes[0]
    highlighted = [
        label.get_text() for label in ax.get_yticklabels() if matplotlib.colors.to_rgb(label.get_color()) == VERMILLION
    ]
    assert highlighted == ["Tucson, AZ", "Seattle, WA"]
    assert all(label.get_fontweight() == "bold" for label in ax.get_yticklabels()[:2])
    assert {label.get_fontweight() for label in ax.get_yticklabels()[2:]} == {"normal"}
    colours = {position: edge for position, (_, edge) in dots(ax).items()}
    assert [colours[i] for i in range(5)] == [VERMILLION, VERMILLION, BLUE, BLUE, BLUE]


def test_a_small_tucson_is_set_apart_not_highlighted():
    small_tucson = COURTS.assign(completions=np.where(COURTS["base_city_code"] == "TUC", 60, COURTS["completions"]))
    ax = figures.courts_ranked(small_tucson, NATIONAL, CTX).axes[0]
    labels = tick_labels(ax)
    assert labels.index("Tucson, AZ") > labels.index("")
    assert matplotlib.colors.to_rgb(ax.get_yticklabels()[labels.index("Tucson, AZ")].get_color()) == GREY


def test_min_completions_of_the_run_draws_the_line():
    # With min_completions 5, Honolulu (10 completions, 50%) ranks first; Saipan (none) is the only one set apart.
    ax = figures.courts_ranked(COURTS, NATIONAL, replace(CTX, min_completions=5)).axes[0]
    assert tick_labels(ax) == [
        "Honolulu, HI",
        "Tucson, AZ",
        "Seattle, WA",
        "Los Angeles, CA",
        "San Francisco, CA",
        "New York, NY",
        "Guaynabo, PR",
        "",
        "Saipan, MP",
    ]


def test_the_dashed_line_is_the_national_rate():
    fig = figures.courts_ranked(COURTS, NATIONAL, CTX)
    assert list(line(fig.axes[0], "overall-rate").get_xdata()) == [5.0, 5.0]  # 100 / 2000
    assert "National 5.0%" in texts(fig)
    assert "5.0% of completed proceedings nationally; the highest court rate was 30.0% in Tucson, AZ" in fig.texts[
        0
    ].get_text().replace("\n", " ")


def test_two_courts_with_one_name_are_told_apart():
    twins = with_rates(
        [("MIA", "Miami, FL", "FL", 5, 100), ("KRO", "Miami, FL", "FL", 1, 100)], ["base_city_code", "court", "state"]
    )
    assert tick_labels(figures.courts_ranked(twins, NATIONAL, CTX).axes[0]) == ["Miami, FL (MIA)", "Miami, FL (KRO)"]


# --------------------------------------------------------------------------------------------
# The frame of every figure: note, watermark, no data


def test_method_note_names_release_window_and_method():
    ctx = replace(CTX, method=Method(pd_codes=("Y",), excluded_codes=(), unit="case"), release_label="May 2024")
    assert ctx.note() == (
        "Source: EOIR case-data release May 2024. Window 2012-10-01 to 2014-03-31. "
        "PD closure = OTHER_COMP in {Y}; all case types; unit: case. "
        "Rates with 95% Wilson intervals."
    )
    assert CTX.note() == (
        "Source: EOIR case-data release EOIR case data, published 2024-06-01. Window 2012-10-01 to 2014-03-31. "
        "PD closure = OTHER_COMP in {Y, M, I}; completions exclude OTHER_COMP C, T; all case types; "
        "unit: proceeding. Rates with 95% Wilson intervals."
    )
    assert replace(CTX, synthetic=True).note().startswith("Synthetic sample data \u2014 not real EOIR records. Source:")
    fig = figures.courts_ranked(COURTS, NATIONAL, ctx)
    note = next(t for t in fig.texts if t.get_gid() == "method-note")
    assert note.get_text().replace("\n", " ") == ctx.note()


def test_context_of_a_run_and_its_ingest(tmp_path):
    run = params.Run.from_parameters(start="2013-01-01", end="2013-06-30", unit="case", min_completions=50)
    ingested = ingest.IngestResult(
        tmp_path, {"release_name": "EOIR case data", "release_date": "2024-06-01", "synthetic": True}
    )
    ctx = figures.Context.of(run, ingested)
    assert (ctx.window, ctx.method, ctx.min_completions) == (run.window, run.method, 50)
    assert (ctx.release_label, ctx.synthetic, ctx.units) == ("EOIR case data, published 2024-06-01", True, "cases")


def draw_all(ctx, tables):
    t = tables
    return {
        "01": figures.courts_ranked(t["courts"], t["national"], ctx),
        "02": figures.monthly_trend(t["months"], ctx),
        "03": figures.fiscal_years(t["fiscal_years"], ctx),
        "04": figures.states_circuits(t["states"], t["circuits"], ctx),
        "05": figures.hearing_locations(t["hearing_locations"], t["courts"], ctx),
        "06": figures.court_map(t["courts"], ctx),
        "07": figures.sensitivity(SENSITIVITY, ctx),
        "09": figures.nationalities(t["nationalities"], t["national"], ctx),
    }


@pytest.mark.parametrize("synthetic", [True, False])
def test_watermark_on_every_figure_when_synthetic_and_on_none_otherwise(synthetic):
    for name, fig in draw_all(replace(CTX, synthetic=synthetic), TABLES).items():
        stamps = [t for t in fig.texts if t.get_text() == figures.WATERMARK]
        assert len(stamps) == (1 if synthetic else 0), name
        assert stamps == [] or (stamps[0].get_rotation() > 20 and stamps[0].get_alpha() < 0.5), name


def test_every_figure_says_so_when_there_are_no_completions():
    empty = {name: frame.iloc[0:0] for name, frame in TABLES.items()}
    empty["months"] = TABLES["months"].assign(pd_closures=0, completions=0, pd_rate=np.nan)
    sens = SENSITIVITY.assign(pd_closures=0, completions=0, pd_rate=np.nan, ci_low=np.nan, ci_high=np.nan)
    for name, fig in {**draw_all(CTX, empty), "07": figures.sensitivity(sens, CTX)}.items():
        assert figures.NO_DATA in texts(fig), name


# --------------------------------------------------------------------------------------------
# The other figures, on a small run


MONTHS = with_rates(
    [
        (f"{y}-{m:02d}", y + (m >= 10), 10 * i, 100 + 10 * i)
        for i, (y, m) in enumerate(
            [
                (2012, 10),
                (2012, 11),
                (2012, 12),
                (2013, 1),
                (2013, 2),
                (2013, 3),
                (2013, 4),
                (2013, 5),
                (2013, 6),
                (2013, 7),
                (2013, 8),
                (2013, 9),
                (2013, 10),
                (2013, 11),
                (2013, 12),
                (2014, 1),
                (2014, 2),
                (2014, 3),
            ]
        )
    ],
    ["month", "fiscal_year"],
)
# Two hearing locations per court, each with half its PD closures and completions (the first rounded down).
LOCATIONS = with_rates(
    [
        (
            f"{code}{j}",
            f"{court.split(',')[0].upper()} SITE {j}",
            court.split(",")[0].upper(),
            state,
            code,
            court,
            pd_closures // 2 if j == 0 else pd_closures - pd_closures // 2,
            completions // 2 if j == 0 else completions - completions // 2,
        )
        for code, court, state, pd_closures, completions in COURTS[
            ["base_city_code", "court", "state", "pd_closures", "completions"]
        ].itertuples(index=False)
        for j in range(2)
    ],
    ["hearing_loc_code", "hearing_location", "hearing_city", "hearing_state", "base_city_code", "court"],
)
TABLES = {
    "national": NATIONAL,
    "courts": COURTS,
    "months": MONTHS,
    "hearing_locations": LOCATIONS,
    "fiscal_years": with_rates(
        [(2013, "2012-10-01", "2013-09-30", False, 660, 1860), (2014, "2013-10-01", "2014-03-31", True, 750, 1350)],
        ["fiscal_year", "period_start", "period_end", "partial"],
    ),
    "states": with_rates(
        [("AZ", 30, 100), ("WA", 50, 200), ("CA", 60, 600), ("NY", 10, 400), ("HI", 5, 10)], ["state"]
    ),
    "circuits": with_rates([("9", 145, 910), ("2", 10, 400), ("1", 1, 50)], ["circuit"]),
    "nationalities": with_rates(
        [("MX", "MEXICO", 60, 800), ("CH", "CHINA", 2, 500), ("NA", "NETHERLANDS ANTILLES", 1, 20)],
        ["nat", "nationality"],
    ),
}
SENSITIVITY = with_rates(
    [
        ("default", True, "Run's method (project default)", "completions", 978, 14383),
        ("unit=case", False, "Unit: case (distinct IDNCASE)", "completions", 970, 14300),
        ("pd_codes=Y", False, "PD codes {Y}", "completions", 913, 14383),
        (
            "pending_at_start",
            False,
            "Denominator: pending at start (TRAC 2012)",
            "proceedings pending at start",
            504,
            11800,
        ),
    ],
    ["definition", "is_default", "label", "denominator"],
)


def test_monthly_trend_marks_fiscal_years_policy_dates_and_the_window_rate(tmp_path):
    policies = tmp_path / "policy_dates.csv"
    policies.write_text(
        "date,label,source_url\n2013-06-01,Test policy,https://example.org/a\n"
        "2010-01-01,Outside the window,https://example.org/b\n"
    )
    fig = figures.monthly_trend(MONTHS, replace(CTX, policy_dates=policies))
    top, bottom = fig.axes[:2]
    subtitle = fig.texts[1].get_text().replace("\n", " ")
    assert "1: 01 Jun 2013, Test policy" in subtitle and "Outside" not in subtitle
    vertical = [
        pd.Timestamp(artist.get_xdata()[0]).date()
        for artist in bottom.get_lines()
        if artist.get_linestyle() in ("-", ":") and len(set(artist.get_xdata())) == 1
    ]
    assert vertical == [dt.date(2013, 10, 1), dt.date(2013, 6, 1)]  # FY2014 starts; the policy date
    assert [t.get_text() for t in top.texts if t.get_text().startswith("FY")] == ["FY2013", "FY2014"]
    # The window's rate: sum of PD closures (10 * (0 + ... + 17) = 1530) over completions (1800 + 1530 = 3330).
    assert line(bottom, "overall-rate").get_ydata()[0] == pytest.approx(100 * 1530 / 3330)
    assert [t.get_text() for t in bottom.texts][:3] == ["100", "110", "120"]  # n per month


def test_fiscal_years_hatch_the_partial_year_and_show_n():
    fig = figures.fiscal_years(TABLES["fiscal_years"], CTX)
    closures, rates = fig.axes
    assert [bar.get_hatch() or "" for bar in closures.patches] == ["", "////"]
    assert [bar.get_height() for bar in closures.patches] == [660, 750]
    assert [round(bar.get_height(), 6) for bar in rates.patches] == [round(66000 / 1860, 6), round(75000 / 1350, 6)]
    assert [t.get_text() for t in rates.get_xticklabels()] == [
        "FY2013\nn=1,860",
        "FY2014 (partial)\nOct 2013\u2013Mar 2014\nn=1,350",
    ]


def test_states_and_circuits_are_named_and_ranked():
    states, circuits = figures.states_circuits(TABLES["states"], TABLES["circuits"], CTX).axes[:2]
    # AZ 30%, WA 25%, CA 10%, NY 2.5%; HI (10 completions) set apart. 9th 145/910 = 15.9%, 2nd 2.5%; 1st has 50.
    assert tick_labels(states) == ["Arizona", "Washington", "California", "New York", "", "Hawaii"]
    assert tick_labels(circuits) == ["9th Circuit", "2nd Circuit", "", "1st Circuit"]
    assert states.get_title("left") == "By state of the court" and circuits.get_title("left") == "By federal circuit"


def test_hearing_locations_show_the_largest_courts_in_panels():
    fig = figures.hearing_locations(LOCATIONS, COURTS, CTX, n_courts=3)
    panels = [ax for ax in fig.axes if ax.get_title("left")]
    # By completions: New York 400 and Los Angeles 400 (tie: code LOS before NYC), then San Francisco or Seattle
    # (200 each: SEA before SFR).
    assert [ax.get_title("left") for ax in panels] == [
        "Los Angeles, CA: 10.0% (n=400)",
        "New York, NY: 2.5% (n=400)",
        "Seattle, WA: 25.0% (n=200)",
    ]
    title_colours = {t.get_text(): matplotlib.colors.to_rgb(t.get_color()) for t in fig.findobj(matplotlib.text.Text)}
    assert [title_colours[ax.get_title("left")] for ax in panels] == [DARK, DARK, VERMILLION]
    # Seattle's sites: 25/100 and 25/100, both tier 0, same rate and size: by name.
    assert tick_labels(panels[2]) == ["SEATTLE SITE 0", "SEATTLE SITE 1"]


def test_a_court_shows_its_ten_highest_hearing_locations_and_counts_the_rest():
    # Twelve locations of 100 completions each, with 1 to 12 PD closures: 12% ... 3% shown, 2% and 1% not.
    sites = with_rates(
        [(f"B{j:02d}", f"SITE {j:02d}", "BIG", "NY", "BIG", "Big, NY", j, 100) for j in range(1, 13)],
        ["hearing_loc_code", "hearing_location", "hearing_city", "hearing_state", "base_city_code", "court"],
    )
    court = with_rates([("BIG", "Big, NY", "NY", 78, 1200)], ["base_city_code", "court", "state"])
    ax = figures.hearing_locations(sites, court, CTX).axes[0]
    assert tick_labels(ax)[:10] == [f"SITE {j:02d}" for j in range(12, 2, -1)]
    assert "+ 2 more locations not shown (n=200)" in [t.get_text() for t in ax.texts]


def test_two_hearing_locations_with_one_name_get_a_row_each():
    sites = with_rates(
        [
            ("SEA1", "SEATTLE COURT", "SEATTLE", "WA", "SEA", "Seattle, WA", 30, 100),
            ("SEA2", "SEATTLE COURT", "SEATTLE", "WA", "SEA", "Seattle, WA", 20, 100),
        ],
        ["hearing_loc_code", "hearing_location", "hearing_city", "hearing_state", "base_city_code", "court"],
    )
    court = with_rates([("SEA", "Seattle, WA", "WA", 50, 200)], ["base_city_code", "court", "state"])
    ax = figures.hearing_locations(sites, court, CTX).axes[0]
    assert tick_labels(ax) == ["SEATTLE COURT (SEA1)", "SEATTLE COURT (SEA2)"]
    assert sorted(points[0] for points in dots(ax).values()) == [20.0, 30.0]


def test_sensitivity_figure_shows_each_definition_and_the_published_figure():
    fig = figures.sensitivity(SENSITIVITY, CTX, reference=(6.7, "TRAC bulletin"))
    ax = fig.axes[0]
    assert tick_labels(ax) == list(SENSITIVITY["label"])
    assert right_labels(ax)[0] == "6.80%  (978 / 14,383)"  # 978 / 14383 = 0.06800
    assert right_labels(ax)[3] == "4.27%  (504 / 11,800)"
    assert list(line(ax, "published-rate").get_xdata()) == [6.7, 6.7]
    assert ax.get_yticklabels()[0].get_fontweight() == "bold"
    colours = {position: edge for position, (_, edge) in dots(ax).items()}
    assert colours == {0: VERMILLION, 1: BLUE, 2: BLUE, 3: matplotlib.colors.to_rgb(figures.GREEN)}
    assert "across 4 definitions; the run's method gives 6.8%" in fig.texts[0].get_text().replace("\n", " ")


# --------------------------------------------------------------------------------------------
# 06 Court map


def map_panels(fig) -> list:
    """The main map and its insets (Alaska, Hawaii, ...)."""
    return [panel for ax in fig.axes for panel in (ax, *ax.child_axes)]


def bubbles(fig) -> list:
    return [c for ax in map_panels(fig) for c in ax.collections if c.get_gid() == "court-bubbles"]


def test_map_has_one_bubble_per_court_with_coordinates():
    assert figures.shapefile_path() is not None, "plotly-geo and pyshp are pinned: the map must be drawn"
    unknown = with_rates([("ZZZ", "(unknown code ZZZ)", "", 3, 30)], ["base_city_code", "court", "state"])
    fig = figures.court_map(pd.concat([COURTS, unknown], ignore_index=True), CTX)
    # Eight courts; Saipan has no completions, ZZZ no coordinates: seven bubbles, Honolulu's in the Hawaii inset.
    assert sum(len(c.get_offsets()) for c in bubbles(fig)) == 7
    assert "Not mapped (no coordinates): 1 court(s), n=30." in fig.texts[1].get_text().replace("\n", " ")
    labels = [t.get_text().split(" ")[0] for ax in map_panels(fig) for t in ax.texts if "\nn=" in t.get_text()]
    assert sorted(labels) == ["Seattle", "Tucson"]
    hawaii = next(ax for ax in map_panels(fig) if "Hawaii" in [t.get_text() for t in ax.texts])
    assert sum(len(c.get_offsets()) for c in hawaii.collections if c.get_gid() == "court-bubbles") == 1


def test_map_is_skipped_with_a_warning_without_the_geometry(monkeypatch, caplog):
    monkeypatch.setattr(figures, "shapefile_path", lambda: None)
    with caplog.at_level(logging.WARNING, logger="pdclosures.figures"):
        assert figures.court_map(COURTS, CTX) is None
    assert "plotly-geo and pyshp" in caplog.text


# --------------------------------------------------------------------------------------------
# 09 Nationalities

# 24 nationalities, scrambled: code N00..N23 named "NATION 0".. with 100 + 10*i completions and i PD closures
# each (rate rising with i, except N23, which has none), plus MX (1,000 completions, 10%), XX (no lookup
# name: shown as its code) and ZZ (50 completions, 20%: under min_completions).
NATIONS = with_rates(
    [(f"N{i:02d}", f"NATION {i}", i if i != 23 else 0, 100 + 10 * i) for i in reversed(range(24))]
    + [("MX", "MEXICO", 100, 1000), ("XX", "XX", 3, 205), ("ZZ", "SOUTH KOREA", 10, 50)],
    ["nat", "nationality"],
)


def test_nationalities_show_the_twenty_largest_ranked_by_rate():
    fig = figures.nationalities(NATIONS, NATIONAL, CTX)
    ax = fig.axes[0]
    # The 20 with the most completions: MX (1,000), XX (205) and N23..N06 (330..160, 18 of them). Ranked by
    # rate: MX 10%, then N22 22/320 = 6.9% down to N06 6/160 = 3.75%, XX 3/205 = 1.5%, N23 0%.
    expected = ["Mexico", *[f"Nation {i}" for i in range(22, 5, -1)], "XX", "Nation 23"]
    assert tick_labels(ax) == expected
    assert right_labels(ax)[:2] == ["n=1,000", "n=320"]
    title = fig.texts[0].get_text().replace("\n", " ")
    assert "rates ranged from 0.0% (Nation 23) to 10.0% (Mexico)" in title
    subtitle = fig.texts[1].get_text().replace("\n", " ")
    # Not shown: N00..N05 (100..150 completions, 0..5 PD) and ZZ (50, 10): 7 nationalities, 800 completions, 25 PD.
    assert "Not shown: 7 other nationalities with 800 completions in all (3.1% closed by PD)" in subtitle
    assert list(line(ax, "overall-rate").get_xdata()) == [5.0, 5.0]


def test_small_nationalities_are_set_apart_and_a_short_list_is_all_shown():
    fig = figures.nationalities(NATIONS[NATIONS["nat"].isin(["MX", "ZZ", "XX"])], NATIONAL, CTX)
    ax = fig.axes[0]
    assert tick_labels(ax) == ["Mexico", "XX", "", "South Korea"]  # ZZ: 50 completions, under 100
    assert line(ax, "small-n-rule").get_ydata()[0] == 2
    assert "Not shown" not in fig.texts[1].get_text()
    one_more = figures.nationalities(NATIONS[NATIONS["nat"].isin(["MX", "ZZ"])], NATIONAL, CTX, top=1)
    assert "Not shown: 1 other nationality with 50 completions in all (20.0% closed by PD)" in one_more.texts[
        1
    ].get_text().replace("\n", " ")


# --------------------------------------------------------------------------------------------
# Saving and reading


def test_saved_files_are_byte_identical_on_rerun(tmp_path):
    first = figures.save(figures.courts_ranked(COURTS, NATIONAL, CTX), tmp_path / "a", "01_courts_ranked")
    again = figures.save(figures.courts_ranked(COURTS, NATIONAL, CTX), tmp_path / "b", "01_courts_ranked")
    assert [p.name for p in first] == ["01_courts_ranked.png", "01_courts_ranked.svg", "01_courts_ranked.pdf"]
    for a, b in zip(first, again):
        assert a.read_bytes() == b.read_bytes(), a.name
    png, svg, pdf = (p.read_bytes() for p in first)
    assert int.from_bytes(png[16:20], "big") == 2000  # 10 inches at 200 dpi
    assert b"Software" not in png and b"<dc:date>" not in svg and b"/CreationDate" not in pdf


def test_read_tables_keeps_codes_as_text_and_names_a_missing_file(tmp_path):
    for name, frame in TABLES.items():
        frame.to_csv(tmp_path / f"{name}.csv", index=False)
    tables = figures.read_tables(tmp_path)
    assert tables["circuits"]["circuit"].tolist() == ["9", "2", "1"]
    assert tables["nationalities"]["nat"].tolist() == ["MX", "CH", "NA"]  # NA: Netherlands Antilles, not empty
    assert tables["fiscal_years"]["partial"].tolist() == [False, True]
    assert tables["courts"]["completions"].dtype == "int64" and np.isnan(tables["courts"]["pd_rate"][2])
    (tmp_path / "states.csv").write_text("state,pd_closures,completions,pd_rate,ci_low,ci_high\nAZ,3,ten,,,\n")
    with pytest.raises(ReleaseError, match=r"states\.csv: column completions holds a value that is not a number"):
        figures.read_tables(tmp_path)
    (tmp_path / "courts.csv").unlink()
    with pytest.raises(ReleaseError, match=r"courts\.csv: missing; run notebook 02_rates first") as error:
        figures.read_tables(tmp_path)
    assert "\n" not in str(error.value)


def test_notebook_03_draws_saves_and_shows_each_figure_in_its_own_cell():
    notebook = json.loads((params.PROJECT_ROOT / "notebooks" / "03_figures.ipynb").read_text())
    code = [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)
    drawing = ["".join(cell["source"]) for cell in code if "figures.save(" in "".join(cell["source"])]
    stems = [
        "08_long_run",  # first: it says whether the window's numbers mean anything
        "01_courts_ranked",
        "02_monthly_trend",
        "03_fiscal_years",
        "04_states_circuits",
        "05_hearing_locations",
        "06_court_map",
        "09_nationalities",
    ]
    assert [next(s for s in stems if f'"{s}"' in source) for source in drawing] == stems
    assert all("plt.show()" in source for source in drawing)


def test_svg_clip_paths_are_named_after_what_they_draw():
    # Two saves of one figure whose clip rectangles matplotlib keyed by bounds that differ in the
    # last float bit: same printed rectangles, other ids, and one rectangle listed twice.
    def svg(first_id, second_id, third_id):
        return (
            f'<path d="M 0 0" clip-path="url(#{first_id})"/>\n<path d="M 1 1" clip-path="url(#{third_id})"/>\n'
            "<defs>\n"
            f'  <clipPath id="{first_id}">\n   <rect x="1" y="2" width="3" height="4"/>\n  </clipPath>\n'
            f'  <clipPath id="{second_id}">\n   <rect x="5" y="6" width="7" height="8"/>\n  </clipPath>\n'
            f'  <clipPath id="{third_id}">\n   <rect x="1" y="2" width="3" height="4"/>\n  </clipPath>\n'
            "</defs>\n"
        )

    one = figures._stable_clip_ids(svg("p0000000001", "p0000000002", "p0000000003"))
    other = figures._stable_clip_ids(svg("paaaaaaaaaa", "pbbbbbbbbbb", "pcccccccccc"))
    assert one == other
    assert one.count("<clipPath") == 2  # the repeated rectangle is kept once
    (rect_id,) = set(re.findall(r'clip-path="url\(#(p[0-9a-f]{10})\)"', one))  # both paths use it
    assert f'<clipPath id="{rect_id}">\n   <rect x="1" y="2"' in one


# --------------------------------------------------------------------------------------------
# 08 The long view, and the run's warnings at the foot of every figure


def long_run_table() -> pd.DataFrame:
    """Six months, both definitions: 20 PD closures a month then 0; dismissals add 5 a month, then 300."""
    rows = []
    for i, month in enumerate(["2021-03", "2021-04", "2021-05", "2021-06", "2021-07", "2021-08"]):
        closures = 20 if i < 3 else 0
        rows += [
            (month, "pd-closures", closures, 1000),
            (month, "pd-dismissals", closures + (5 if i < 3 else 300), 1000),
        ]
    return with_rates(rows, ["month", "definition"])


def test_long_run_draws_both_definitions_the_window_policy_dates_and_the_guard_line(tmp_path):
    policies = tmp_path / "policy_dates.csv"
    policies.write_text(
        "date,label,source_url\n2021-05-27,Test memo,https://example.org/a\n2014-11-20,Before,https://example.org/b\n"
    )
    ctx = replace(CTX, window=Window(dt.date(2021, 7, 1), dt.date(2021, 8, 31)), policy_dates=policies)
    fig = figures.long_run(long_run_table(), ctx, threshold=100)
    top, bottom = fig.axes[:2]
    title, subtitle = (t.get_text().replace("\n", " ") for t in fig.texts[:2])
    # Peaks: 20 a month (first in March 2021) under pd-closures; 300 (first in June 2021) with dismissals.
    assert title == (
        "PD closures peaked at 20 a month (Mar 2021); counting dismissals as PD, the peak was 300 a month (Jun 2021)"
    )
    assert "1: 27 May 2021, Test memo" in subtitle and "Before" not in subtitle
    assert "Shaded: this run's window (2021-07-01 to 2021-08-31), counted with pd-closures" in subtitle
    assert [list(line(top, f"pd-a-month-{d}").get_ydata()) for d in ("pd-closures", "pd-dismissals")] == [
        [20, 20, 20, 0, 0, 0],
        [25, 25, 25, 300, 300, 300],
    ]
    assert line(top, "guard-line").get_ydata()[0] == 100
    shaded = next(p for p in top.patches if p.get_gid() == "run-window")
    left, right = shaded.get_x(), shaded.get_x() + shaded.get_width()  # data units on x (days)
    assert (matplotlib.dates.num2date(left).date(), matplotlib.dates.num2date(right).date()) == (
        dt.date(2021, 7, 1),
        dt.date(2021, 9, 1),
    )
    assert top.get_yscale() == "symlog"
    # Two eras in the release (March to May 2021, then from June), both named above the panel.
    assert [t.get_text() for t in top.texts if t.get_gid() == "era-name"] == ["PD barely used", "PD as dismissals"]
    assert not [t for t in fig.texts if t.get_gid() == "run-warning"]


def test_a_run_warning_is_printed_at_the_foot_of_every_figure():
    warning = "warning: 0.5 PD closures a month under pd-closures in 2018-01-01 to 2018-12-31 (fewer than 100 a month)"
    ctx = replace(CTX, warnings=(warning,))
    for fig in (
        figures.courts_ranked(COURTS, NATIONAL, ctx),
        figures.monthly_trend(MONTHS, ctx),
        figures.long_run(long_run_table(), ctx),
    ):
        shown = next(t for t in fig.texts if t.get_gid() == "run-warning")
        assert shown.get_text().replace("\n", " ") == "Warning: " + warning.removeprefix("warning: ")
        assert matplotlib.colors.to_rgb(shown.get_color()) == VERMILLION
        note = next(t for t in fig.texts if t.get_gid() == "method-note")
        assert shown.get_position()[1] > note.get_position()[1]  # above the note, inside the figure
        plt.close(fig)


def test_a_warned_run_titles_its_window_figures_not_a_finding_but_not_the_long_view():
    ctx = replace(CTX, warnings=("warning: 0.5 PD closures a month under pd-closures (fewer than 100 a month)",))
    titles = {}
    for name, fig in (
        ("courts", figures.courts_ranked(COURTS, NATIONAL, ctx)),
        ("months", figures.monthly_trend(MONTHS, ctx)),
        ("long_run", figures.long_run(long_run_table(), ctx)),
    ):
        titles[name] = fig.texts[0]
        plt.close(fig)
    for name in ("courts", "months"):
        assert titles[name].get_text().replace("\n", " ").startswith(figures.NOT_A_FINDING + " ")
        assert matplotlib.colors.to_rgb(titles[name].get_color()) == VERMILLION
    # The long view is about the whole release, the remedy for the warning: its title stays as it is.
    assert titles["long_run"].get_text().startswith("PD closures peaked at 20 a month")
    unwarned = figures.courts_ranked(COURTS, NATIONAL, CTX)
    assert not unwarned.texts[0].get_text().startswith(figures.NOT_A_FINDING)
    plt.close(unwarned)


def test_context_of_a_run_reads_its_warnings(tmp_path):
    from pdclosures import eras

    eras.write_warnings(["warning: one", "warning: two"], tmp_path)
    run = params.Run.from_parameters(processed_dir=tmp_path)
    ctx = figures.Context.of(run, ingest.IngestResult(tmp_path, {"release_name": "x"}))
    assert ctx.warnings == ("warning: one", "warning: two")
