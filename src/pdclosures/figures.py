"""Every figure of a run: the house style, one function per figure, and saving.

A figure function takes tables shaped like the rates CSVs (see ``read_tables``) and a ``Context`` and returns a
matplotlib Figure. Every figure is drawn in the house style (seaborn's whitegrid theme under
``pdclosures.mplstyle``, with the Okabe-Ito colour-blind-safe palette), states its finding in the title, shows
rates in percent with their 95% Wilson intervals and n, ends with a note naming the release, the window and the
method, and is stamped SYNTHETIC SAMPLE when the run used the synthetic sample. ``save`` writes PNG (200 dpi),
SVG and PDF, byte-identical on rerun.

Notebook 03 draws figure 08 (``long_run``, the whole release under both definitions) first, then figures 01-06
and 09, one cell each; notebook 04 draws figure 07 (``sensitivity``). A run's warnings (eras.py: the guard) are
printed in vermillion at the foot of every figure, above the note.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
import textwrap
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import seaborn.objects as so
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, MaxNLocator

from . import definition, eras
from .definition import Method, Window
from .eras import ERAS, POLICY_DATES, read_policy_dates, read_warnings
from .errors import ReleaseError

if TYPE_CHECKING:
    from .ingest import IngestResult
    from .params import Run

log = logging.getLogger(__name__)

STYLE_PATH = Path(__file__).with_name("pdclosures.mplstyle")

# Okabe-Ito colours, and greys
BLUE, VERMILLION, GREEN, SKY, PURPLE = "#0072B2", "#D55E00", "#009E73", "#56B4E9", "#CC79A7"
GREY, LIGHT_GREY, MUTED, DARK = "#9A9A9A", "#BBBBBB", "#666666", "#222222"

HIGHLIGHTED = {"TUC": "TUCSON", "SEA": "SEATTLE"}  # the courts TRAC singled out (about 30% PD closures)
WATERMARK = "SYNTHETIC SAMPLE \u2014 NOT REAL DATA"
NO_DATA = "No completions in this window"
PNG_DPI = 200
# Without dates, software versions and random ids, the same figure gives the same bytes.
SAVE_METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
}

WIDTH = 10.0  # inches
ROW = 0.22  # inches per row of a ranked panel
TITLE_PT, SUBTITLE_PT, NOTE_PT, WARN_PT = 13.0, 9.5, 7.5, 8.0
NOT_A_FINDING = f"{eras.NOT_A_FINDING} (see the warning below):"  # opens the title of a warned run's figures
MARGIN = 0.18  # inches left of the title and note


# --------------------------------------------------------------------------------------------
# The run, the tables, the house style


@dataclass(frozen=True)
class Context:
    """What every figure needs to know about its run, besides its tables."""

    window: Window
    method: Method
    min_completions: int
    release_label: str
    synthetic: bool
    policy_dates: Path = POLICY_DATES
    warnings: tuple[str, ...] = ()  # the run's warnings (eras.read_warnings), at the foot of every figure

    @classmethod
    def of(cls, run: Run, ingested: IngestResult) -> Context:
        return cls(
            run.window,
            run.method,
            run.min_completions,
            ingested.release_label,
            ingested.synthetic,
            warnings=tuple(read_warnings(run.processed_dir)),
        )

    @property
    def units(self) -> str:
        return "cases" if self.method.unit == "case" else "proceedings"

    @property
    def overall(self) -> str:
        """The run-wide rate's name: national, or over the courts the run is restricted to."""
        return "Selected courts" if self.method.courts else "National"

    @property
    def overall_phrase(self) -> str:
        return "across the selected courts" if self.method.courts else "nationally"

    def note(self) -> str:
        """The source-and-method line at the foot of every figure."""
        text = (
            f"Source: EOIR case-data release {self.release_label}. Window {self.window}. "
            f"{self.method.describe()}. Rates with 95% Wilson intervals."
        )
        if self.method.definition == definition.PD_DISMISSALS:
            text += " " + definition.DISMISSALS_CAVEAT
        return f"Synthetic sample data \u2014 not real EOIR records. {text}" if self.synthetic else text


TABLES = ("national", "fiscal_years", "months", "courts", "hearing_locations", "states", "circuits", "nationalities")


def read_tables(processed_dir) -> dict[str, pd.DataFrame]:
    """The rates CSVs the figures draw; codes and names stay text (circuit "9", state "NA")."""
    tables = {}
    for name in TABLES:
        path = Path(processed_dir) / f"{name}.csv"
        if not path.is_file():
            raise ReleaseError(f"{path}: missing; run notebook 02_rates first (make all runs them in order)")
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        for column in frame.columns:
            try:
                if column in ("pd_closures", "completions", "fiscal_year"):
                    frame[column] = frame[column].astype("int64")
                elif column in ("pd_rate", "ci_low", "ci_high"):
                    frame[column] = pd.to_numeric(frame[column].replace("", None))
            except ValueError:
                raise ReleaseError(f"{path}: column {column} holds a value that is not a number") from None
            if column == "partial":
                frame[column] = frame[column] == "True"
        tables[name] = frame
    return tables


@functools.cache
def house_style() -> dict:
    """The rc parameters of every figure: seaborn's whitegrid theme, pdclosures.mplstyle on top."""
    return {**sns.axes_style("whitegrid"), **matplotlib.rc_params_from_file(STYLE_PATH, use_default_template=False)}


def _in_house_style(draw):
    @functools.wraps(draw)
    def drawn(*args, **kwargs):
        with matplotlib.rc_context(house_style()):
            return draw(*args, **kwargs)

    return drawn


def save(fig: Figure, figures_dir, stem: str) -> list[Path]:
    """Write fig as <stem>.png (200 dpi), .svg and .pdf into figures_dir; returns the three paths."""
    folder = Path(figures_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    with matplotlib.rc_context(house_style()):  # with its fixed SVG hash salt and TrueType fonts in PDFs
        for kind, metadata in SAVE_METADATA.items():
            paths.append(folder / f"{stem}.{kind}")
            fig.savefig(paths[-1], format=kind, dpi=PNG_DPI, metadata=metadata)
    svg = paths[list(SAVE_METADATA).index("svg")]
    svg.write_text(_stable_clip_ids(svg.read_text(encoding="utf-8")), encoding="utf-8")
    return paths


_CLIP_PATH = re.compile(r'  <clipPath id="(p[0-9a-f]{10})">\n(.*?)\n  </clipPath>\n', re.S)


def _stable_clip_ids(svg: str) -> str:
    """Names each SVG clip path after what it draws, and keeps one of any identical ones.

    matplotlib names a clip rectangle after its bounds at full float precision, and those can differ
    in the last bit from one process to the next (the layout engine's sums follow Python's per-process
    string hashing), although the SVG prints the same rectangle. Without this, a rerun gives
    different bytes now and then."""
    renamed = {}
    for match in _CLIP_PATH.finditer(svg):
        renamed[match.group(1)] = "p" + hashlib.sha256(match.group(2).encode()).hexdigest()[:10]
    seen = set()

    def keep_first(match: re.Match) -> str:
        new_id = renamed[match.group(1)]
        if new_id in seen:
            return ""
        seen.add(new_id)
        return match.group(0).replace(match.group(1), new_id)

    svg = _CLIP_PATH.sub(keep_first, svg)
    return re.sub(r"url\(#(p[0-9a-f]{10})\)", lambda m: f"url(#{renamed.get(m.group(1), m.group(1))})", svg)


# --------------------------------------------------------------------------------------------
# Small helpers


def pct(rate, digits: int = 1) -> str:
    return f"{rate * 100:.{digits}f}%" if rate is not None and np.isfinite(rate) else "n/a"


def count(n) -> str:
    return f"{int(n):,}"


def _rate(frame: pd.DataFrame) -> float:
    completions = frame["completions"].sum()
    return frame["pd_closures"].sum() / completions if completions > 0 else math.nan


def _has_data(frame: pd.DataFrame | None) -> bool:
    return frame is not None and len(frame) > 0 and frame["completions"].sum() > 0


def _axis_max(percents) -> float:
    """A round axis end just above every value (in percent)."""
    top = max([float(v) for v in percents if np.isfinite(v)] + [1.0]) * 1.04
    return float(MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]).tick_values(0, top)[-1])


def _count_axis(axis) -> None:
    axis.set_major_locator(MaxNLocator(integer=True))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))


def _percent_axis(axis) -> None:
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}%"))


def _highlighted(code, court) -> bool:
    city = str(court or "").split(",")[0].strip().upper()
    return str(code or "").upper() in HIGHLIGHTED or city in HIGHLIGHTED.values()


def _distinct(names, codes) -> list[str]:
    """names, with the code appended to a name that several rows share: each row gets a row of its own."""
    names = list(names)
    shared = {name for name, n in Counter(names).items() if n > 1}
    return [f"{name} ({code})" if name in shared else name for name, code in zip(names, codes)]


def _court_labels(courts: pd.DataFrame) -> dict[str, str]:
    """base_city_code -> 'City, ST' (two courts in one city: 'Miami, FL (KRO)')."""
    codes = courts["base_city_code"]
    names = [court or f"(code {code})" for code, court in zip(codes, courts["court"])]
    return dict(zip(codes, _distinct(names, codes)))


STATE_NAMES = dict(
    zip(
        "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND "
        "OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU MP VI AS".split(),
        [
            "Alabama",
            "Alaska",
            "Arizona",
            "Arkansas",
            "California",
            "Colorado",
            "Connecticut",
            "Delaware",
            "District of Columbia",
            "Florida",
            "Georgia",
            "Hawaii",
            "Idaho",
            "Illinois",
            "Indiana",
            "Iowa",
            "Kansas",
            "Kentucky",
            "Louisiana",
            "Maine",
            "Maryland",
            "Massachusetts",
            "Michigan",
            "Minnesota",
            "Mississippi",
            "Missouri",
            "Montana",
            "Nebraska",
            "Nevada",
            "New Hampshire",
            "New Jersey",
            "New Mexico",
            "New York",
            "North Carolina",
            "North Dakota",
            "Ohio",
            "Oklahoma",
            "Oregon",
            "Pennsylvania",
            "Rhode Island",
            "South Carolina",
            "South Dakota",
            "Tennessee",
            "Texas",
            "Utah",
            "Vermont",
            "Virginia",
            "Washington",
            "West Virginia",
            "Wisconsin",
            "Wyoming",
            "Puerto Rico",
            "Guam",
            "Northern Mariana Islands",
            "U.S. Virgin Islands",
            "American Samoa",
        ],
    )
)


def _state_label(code) -> str:
    code = str(code or "").strip()
    return STATE_NAMES.get(code.upper(), code) if code else "(unknown state)"


def _circuit_label(value) -> str:
    text = str(value or "").strip()
    if text.isdigit():
        number = int(text)
        suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
        return f"{number}{suffix} Circuit"
    if text.upper() in ("DC", "D.C."):
        return "D.C. Circuit"
    return text if text and text != "(unknown)" else "(unknown circuit)"


def _shorten(text, length: int = 34) -> str:
    text = str(text or "").strip() or "(unnamed)"
    return text if len(text) <= length else text[: length - 1].rstrip() + "\u2026"


# --------------------------------------------------------------------------------------------
# The frame of every figure: title, subtitle, legend, note, watermark


def _wrap(text: str, width_in: float, size_pt: float, bold: bool = False, hyphens: bool = True) -> list[str]:
    """Lines of text that fit width_in; hyphens=False keeps names such as pd-dismissals whole."""
    per_line = max(20, int(width_in * 72 / (size_pt * (0.60 if bold else 0.55))))  # DejaVu Sans, roughly
    return textwrap.wrap(text, per_line, break_on_hyphens=hyphens) or [""]


def _frame(
    ctx: Context,
    title: str,
    subtitle: str,
    body_in: float,
    *,
    width: float = WIDTH,
    legend: list | None = None,
    legend_columns: int | None = None,
    about_the_window: bool = True,
) -> Figure:
    """A figure with a header (title, subtitle, legend) and a footer (the note) of fixed heights; the
    axes the caller adds are laid out (constrained layout) in the band between them.

    A run with warnings (the guard: its PD codes were barely in use in the window) has the title of every
    figure about the window start with NOT_A_FINDING, in vermillion, so the number never reads as a finding."""
    text_in = width - 2 * MARGIN
    flagged = bool(ctx.warnings) and about_the_window
    if flagged:
        title = f"{NOT_A_FINDING} {title}"
    title = _wrap(title, text_in, TITLE_PT, bold=True)
    subtitle = _wrap(subtitle, text_in, SUBTITLE_PT)
    note = _wrap(ctx.note(), text_in, NOTE_PT)
    warned = [
        line
        for warning in ctx.warnings
        for line in _wrap("Warning: " + warning.removeprefix("warning: "), text_in, WARN_PT, bold=True, hyphens=False)
    ]
    title_in, subtitle_in = len(title) * TITLE_PT * 1.25 / 72, len(subtitle) * SUBTITLE_PT * 1.3 / 72
    legend_in = 0.16 + 0.16 * math.ceil(len(legend) / (legend_columns or len(legend))) if legend else 0.0
    header_in = 0.16 + title_in + 0.06 + subtitle_in + legend_in + 0.10
    note_in = len(note) * NOTE_PT * 1.35 / 72
    warned_in = len(warned) * WARN_PT * 1.3 / 72 + 0.06 if warned else 0.0
    footer_in = 0.20 + note_in + warned_in
    height = header_in + body_in + footer_in

    fig = plt.figure(figsize=(width, height), layout="constrained")
    left = MARGIN / width
    fig.get_layout_engine().set(rect=(left, footer_in / height, 1 - 2 * left, body_in / height), h_pad=0.04, w_pad=0.04)
    top = 1 - 0.16 / height
    fig.text(
        left,
        top,
        "\n".join(title),
        va="top",
        fontsize=TITLE_PT,
        fontweight="bold",
        color=VERMILLION if flagged else DARK,
        linespacing=1.15,
    )
    top -= (title_in + 0.06) / height
    fig.text(left, top, "\n".join(subtitle), va="top", fontsize=SUBTITLE_PT, color="#555555", linespacing=1.2)
    if legend:
        fig.legend(
            handles=legend,
            loc="upper left",
            bbox_to_anchor=(left - 0.005, top - (subtitle_in + 0.06) / height),
            ncols=legend_columns or len(legend),
            fontsize=8.5,
            handletextpad=0.5,
            columnspacing=1.6,
            borderaxespad=0.0,
            borderpad=0.0,
        )
    fig.text(
        left,
        0.10 / height,
        "\n".join(note),
        va="bottom",
        fontsize=NOTE_PT,
        color="#555555",
        linespacing=1.25,
        gid="method-note",
    )
    if warned:  # above the note: what is wrong with this run's numbers, and what to do
        fig.text(
            left,
            (0.10 + note_in + 0.06) / height,
            "\n".join(warned),
            va="bottom",
            fontsize=WARN_PT,
            fontweight="bold",
            color=VERMILLION,
            linespacing=1.2,
            gid="run-warning",
        )
    if ctx.synthetic:
        size = min(64.0, max(24.0, math.hypot(width, height) * 72 / len(WATERMARK)))
        stamp = fig.text(
            0.5,
            0.5,
            WATERMARK,
            rotation=min(60.0, max(20.0, math.degrees(math.atan2(height, width)))),
            rotation_mode="anchor",
            ha="center",
            va="center",
            fontsize=size,
            fontweight="bold",
            color=VERMILLION,
            alpha=0.22,
            zorder=1000,
            gid="synthetic-watermark",
        )
        stamp.set_in_layout(False)
    return fig


def _no_data(ax, message: str = NO_DATA) -> None:
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", fontsize=15, color=MUTED)


def _no_data_figure(ctx: Context, what: str) -> Figure:
    fig = _frame(ctx, NO_DATA, f"{what}, {ctx.window}.", 3.0)
    _no_data(fig.add_subplot())
    return fig


def _legend(ctx: Context, *, first: list[Line2D]) -> list[Line2D]:
    return first + [
        Line2D(
            [], [], marker="o", ls="", mec=GREY, mfc="none", label=f"Fewer than {ctx.min_completions:,} completions"
        ),
        Line2D([], [], color="#555555", lw=1.2, label="95% Wilson interval"),
        Line2D([], [], color=DARK, lw=1.0, ls="--", label=f"{ctx.overall} rate"),
    ]


def _dot(colour: str, label: str, marker: str = "o") -> Line2D:
    return Line2D([], [], marker=marker, ls="", color=colour, label=label)


# --------------------------------------------------------------------------------------------
# Ranked point-and-interval panels (figures 01, 04, 05, 07)


def _ranked(frame: pd.DataFrame, labels, min_completions: int) -> pd.DataFrame:
    """Rows in reading order: tier 0 (at least min_completions) by rate, highest first; then tier 1 (fewer
    completions), by rate; then tier 2 (none). Ties: more completions first, then by label."""
    tier = np.select([frame["completions"] <= 0, frame["completions"] < min_completions], [2, 1], 0)
    rows = frame.assign(label=list(labels), tier=tier, _rate=frame["pd_rate"].fillna(-1))
    rows = rows.sort_values(
        ["tier", "_rate", "completions", "label"], ascending=[True, False, False, True], kind="mergesort"
    )
    return rows.drop(columns="_rate").reset_index(drop=True)


def _plot_dots(rows: pd.DataFrame, order=None) -> so.Plot:
    """A dot per row at its rate (percent) with its 95% interval; the rows' colour and marker columns say how;
    tier > 0 rows are hollow."""
    data = rows.assign(
        rate=rows["pd_rate"] * 100, low=rows["ci_low"] * 100, high=rows["ci_high"] * 100, filled=rows["tier"] == 0
    )
    if "marker" not in data:
        data["marker"] = "o"
    return (
        so.Plot(data, x="rate", y="label", xmin="low", xmax="high", color="colour")
        .add(so.Range(linewidth=1.2), legend=False)
        .add(so.Dot(pointsize=5.5, edgewidth=1.1), fill="filled", marker="marker", legend=False)
        .scale(color=None, fill=None, marker=so.Nominal({"o": "o", "D": "D", "s": "s"}), y=so.Nominal(order=order))
        .label(y="")
        .theme(house_style())
    )


def _finish_panel(
    ax,
    rows: pd.DataFrame,
    *,
    xmax: float,
    overall: str | None = None,
    rate: float = math.nan,
    right_labels: list[str] | None = None,
    divider: str = "",
) -> None:
    """Rate axis, label colours (highlighted bold, small-n grey), n on the right, the overall rate, and a rule
    above the rows of tier > 0 (labelled with divider). rows are the panel's rows in plotting order."""
    ax.set_xlim(0, xmax)
    _percent_axis(ax.xaxis)
    ax.tick_params(axis="y", length=0, pad=5)
    ax.grid(axis="y", visible=False)
    positions = list(range(len(rows)))
    for gap in np.flatnonzero(rows["tier"] < 0):  # the blank row (_with_gap) that sets small rows apart
        ax.axhline(gap, color=LIGHT_GREY, lw=0.8, gid="small-n-rule")
        if divider:
            ax.text(
                0.995,
                gap,
                divider,
                transform=ax.get_yaxis_transform(),
                ha="right",
                va="center",
                fontsize=7.5,
                color="#777777",
                bbox=dict(facecolor="white", edgecolor="none", pad=0.5),
            )
    ax.set_yticks(positions, list(rows["label"]))
    for label, colour, tier in zip(ax.get_yticklabels(), rows["colour"], rows["tier"]):
        label.set_color(GREY if tier else (DARK if colour == BLUE else colour))
        label.set_fontweight("bold" if colour == VERMILLION else "normal")
    if right_labels is None:
        right_labels = [
            "" if tier < 0 else "no completions" if tier == 2 else f"n={count(n)}"
            for n, tier in zip(rows["completions"], rows["tier"])
        ]
        ax.annotate(
            "Completions",
            (1.0, 1.0),
            xycoords="axes fraction",
            xytext=(4, 2),
            textcoords="offset points",
            va="bottom",
            fontsize=7.5,
            color=MUTED,
        )
    right = ax.secondary_yaxis("right")
    right.set_yticks(positions, right_labels)
    right.tick_params(axis="y", length=0, pad=4, labelsize=7.5, labelcolor=MUTED)
    right.spines["right"].set_visible(False)
    if overall and np.isfinite(rate):
        ax.axvline(rate * 100, color=DARK, lw=1.0, ls="--", zorder=1, gid="overall-rate")
        on_right = rate * 100 > 0.6 * xmax
        ax.annotate(
            f"{overall} {pct(rate)}",
            (rate * 100, 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(-3 if on_right else 3, 2),
            textcoords="offset points",
            ha="right" if on_right else "left",
            va="bottom",
            fontsize=8,
            color=DARK,
        )


def _with_gap(rows: pd.DataFrame) -> pd.DataFrame:
    """rows with a blank row (tier -1) between those with at least min_completions and the rest."""
    reliable = int((rows["tier"] == 0).sum())
    if not 0 < reliable < len(rows):
        return rows
    blank = pd.DataFrame({"label": [""], "tier": [-1], "colour": ["none"], "completions": [0]})
    return pd.concat([rows.iloc[:reliable], blank, rows.iloc[reliable:]], ignore_index=True)


def _policies_between(ctx: Context, first, last) -> pd.DataFrame:
    """The policy dates (data/reference/policy_dates.csv) from first to last, both inclusive."""
    policies = read_policy_dates(ctx.policy_dates)
    return policies[policies["date"].between(first, last)].reset_index(drop=True)


def _dot_panel(ax, rows: pd.DataFrame, *, xmax: float, ctx: Context, rate: float, divider: str = "") -> None:
    rows = _with_gap(rows)
    _plot_dots(rows, order=list(rows["label"])).on(ax).plot()
    _finish_panel(ax, rows, xmax=xmax, overall=ctx.overall, rate=rate, divider=divider)


def _ranked_figure(ctx: Context, rows: pd.DataFrame, rate: float, title: str, subtitle: str, legend) -> Figure:
    """One panel of ranked rates (courts, nationalities): dots with intervals and n, those under
    min_completions below a divider, the overall rate dashed."""
    fig = _frame(ctx, title, subtitle, ROW * (len(rows) + 1) + 0.9, legend=legend)
    ax = fig.add_subplot()
    xmax = _axis_max(list(rows["ci_high"] * 100) + [rate * 100])
    _dot_panel(
        ax,
        rows,
        xmax=xmax,
        ctx=ctx,
        rate=rate,
        divider=f"Below: fewer than {ctx.min_completions:,} completions (rates unreliable)",
    )
    ax.set_xlabel("PD closures as a share of completions (%)")
    return fig


# --------------------------------------------------------------------------------------------
# 01 Courts ranked


@_in_house_style
def courts_ranked(courts: pd.DataFrame, national: pd.DataFrame, ctx: Context) -> Figure:
    """Courts ranked by PD rate with 95% intervals and n; courts under min_completions set apart below;
    Tucson and Seattle highlighted; the national rate as a dashed line."""
    if not _has_data(courts):
        return _no_data_figure(ctx, "PD closure rate by immigration court")
    rate = _rate(national) if _has_data(national) else _rate(courts)
    labels = _court_labels(courts)
    rows = _ranked(courts, [labels[code] for code in courts["base_city_code"]], ctx.min_completions)
    rows["colour"] = [
        GREY if tier else VERMILLION if _highlighted(code, court) else BLUE
        for tier, code, court in zip(rows["tier"], rows["base_city_code"], rows["court"])
    ]
    reliable = rows[rows["tier"] == 0]
    lead = f"Prosecutorial discretion closed {pct(rate)} of completed {ctx.units} {ctx.overall_phrase}"
    if courts["pd_closures"].sum() == 0:
        title = (
            f"ICE closed none of the {count(courts['completions'].sum())} completed {ctx.units} by "
            "prosecutorial discretion in this window"
        )
    elif len(reliable):
        title = f"{lead}; the highest court rate was {pct(reliable['pd_rate'].iloc[0])} in {reliable['label'].iloc[0]}"
    else:
        title = f"{lead}; no court reached {ctx.min_completions:,} completions"
    subtitle = (
        f"Share of completed {ctx.units} closed by ICE prosecutorial discretion (PD), by immigration court, "
        f"{ctx.window}. Courts with at least {ctx.min_completions:,} completions are ranked first."
    )
    legend = _legend(
        ctx, first=[_dot(VERMILLION, "Tucson and Seattle (TRAC's highlights)"), _dot(BLUE, "Other courts")]
    )
    return _ranked_figure(ctx, rows, rate, title, subtitle, legend)


# --------------------------------------------------------------------------------------------
# 02 Monthly trend


@_in_house_style
def monthly_trend(months: pd.DataFrame, ctx: Context) -> Figure:
    """PD closures per month (bars) and the PD rate per month with its interval band; fiscal-year boundaries
    and the policy dates of data/reference/policy_dates.csv that fall in the window."""
    if not _has_data(months):
        return _no_data_figure(ctx, "PD closures and the PD closure rate by month")
    m = months.assign(date=pd.to_datetime(months["month"], format="%Y-%m")).sort_values("date", ignore_index=True)
    m["middle"] = m["date"] + pd.Timedelta(days=14)
    first, last = m["date"].iloc[0], m["date"].iloc[-1] + pd.offsets.MonthEnd(0)
    rate = _rate(m)
    counted = m[m["completions"] > 0]
    if m["pd_closures"].sum() == 0:
        title = f"No PD closures in any month of the window ({count(m['completions'].sum())} completions)"
    elif len(counted) == 1:
        title = f"The PD closure rate was {pct(counted['pd_rate'].iloc[0])} in {counted['date'].iloc[0]:%B %Y}"
    else:
        low, high = counted.loc[counted["pd_rate"].idxmin()], counted.loc[counted["pd_rate"].idxmax()]
        title = (
            f"The monthly PD closure rate ranged from {pct(low['pd_rate'])} ({low['date']:%b %Y}) "
            f"to {pct(high['pd_rate'])} ({high['date']:%b %Y})"
        )
    policies = _policies_between(ctx, first, last)
    subtitle = (
        f"PD closures per month (top) and PD closures as a share of completions (bottom), {ctx.window}. "
        "Grey lines: fiscal years (Oct\u2013Sep)."
    )
    if len(policies):
        subtitle += " Numbered purple lines: policy dates \u2014 " + _policy_key(policies) + "."
    else:
        subtitle += " No reference policy date falls inside this window."

    fig = _frame(ctx, title, subtitle, 5.6)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1, 1.15])
    top.bar(m["middle"], m["pd_closures"], width=24, color=BLUE, zorder=2)
    top.set_ylabel("PD closures per month")
    _count_axis(top.yaxis)
    top.set_ylim(0, max(1, m["pd_closures"].max()) * 1.12)
    bottom.fill_between(
        counted["middle"],
        counted["ci_low"] * 100,
        counted["ci_high"] * 100,
        color=SKY,
        alpha=0.35,
        lw=0,
        label="95% Wilson interval",
    )
    bottom.plot(counted["middle"], counted["pd_rate"] * 100, "-o", color=BLUE, ms=3.5, label="PD rate")
    bottom.axhline(
        rate * 100, color=DARK, lw=1.0, ls="--", label=f"Rate over the window: {pct(rate)}", gid="overall-rate"
    )
    bottom.set_ylabel("PD rate (% of completions)")
    _percent_axis(bottom.yaxis)
    show_n = len(m) <= 36
    bottom.set_ylim(0, _axis_max(list(counted["ci_high"] * 100) + [rate * 100]) * (1.3 if show_n else 1.0))
    if show_n:
        for x, n in zip(m["middle"], m["completions"]):
            bottom.text(
                x,
                0.975,
                count(n),
                transform=bottom.get_xaxis_transform(),
                rotation=90,
                ha="center",
                va="top",
                fontsize=6.5,
                color=MUTED,
            )
        n_note = "n = completions per month (grey numbers)"
    else:
        n_note = f"n = {count(m['completions'].min())}\u2013{count(m['completions'].max())} completions per month"
    bottom.text(0.0, 1.01, n_note, transform=bottom.transAxes, va="bottom", fontsize=7.5, color=MUTED)
    bottom.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=3, fontsize=7.5, borderaxespad=0.1)
    for ax in (top, bottom):
        ax.grid(axis="x", visible=False)
        ax.tick_params(axis="x", length=0)
    # Fiscal years: a line where one starts, its name above the top panel where there is room.
    starts = [first] + [
        pd.Timestamp(year, 10, 1)
        for year in range(first.year, last.year + 1)
        if first < pd.Timestamp(year, 10, 1) <= last
    ]
    for i, start in enumerate(starts):
        if i:
            for ax in (top, bottom):
                ax.axvline(start, color=LIGHT_GREY, lw=1.0, zorder=0)
        end = starts[i + 1] if i + 1 < len(starts) else last
        if (end - start).days > 45 or len(starts) == 1:
            top.text(
                start + pd.Timedelta(days=5),
                1.01,
                f"FY{start.year + (start.month >= 10)}",
                transform=top.get_xaxis_transform(),
                va="bottom",
                fontsize=8,
                color=MUTED,
            )
    _policy_lines(policies, (top, bottom), (last - first).days + 30)
    step = 1 if len(m) <= 24 else 3 if len(m) <= 48 else 6 if len(m) <= 120 else 12
    ticks = m[(m["date"].dt.month - 1) % step == 0]
    bottom.set_xticks(
        ticks["middle"],
        [f"{d:%b}" + (f"\n{d.year}" if i == 0 or d.month == 1 else "") for i, d in enumerate(ticks["date"])],
    )
    bottom.set_xlim(first - pd.Timedelta(days=6), last + pd.Timedelta(days=6))
    bottom.set_xlabel("Month of completion")
    return fig


def _policy_key(policies: pd.DataFrame) -> str:
    return "; ".join(f"{i}: {p.date:%d %b %Y}, {p.label}" for i, p in enumerate(policies.itertuples(), 1))


def _policy_lines(policies: pd.DataFrame, axes, span_days: float) -> None:
    """Policy dates as purple dotted lines on each of axes, numbered (the key is in the subtitle) at the
    top of the first; a tag too close to the last one at its height goes a row lower."""
    rows = [0.97, 0.86, 0.75]
    last_in_row: list = [None] * len(rows)
    for i, policy in enumerate(policies.itertuples(), 1):
        for ax in axes:
            ax.axvline(policy.date, color=PURPLE, lw=1.3, ls=":", zorder=4)
        free = [
            n for n, last in enumerate(last_in_row) if last is None or (policy.date - last).days >= 0.035 * span_days
        ]
        row = free[0] if free else 0
        last_in_row[row] = policy.date
        axes[0].text(
            policy.date,
            rows[row],
            str(i),
            transform=axes[0].get_xaxis_transform(),
            ha="center",
            va="top",
            fontsize=7.5,
            fontweight="bold",
            color="#7A3D66",
            zorder=6,
            bbox=dict(boxstyle="circle,pad=0.25", facecolor="white", edgecolor=PURPLE, lw=1.0),
        )


# --------------------------------------------------------------------------------------------
# 08 The long view: every month of the release under both definitions (drawn first in notebook 03)

DEFINITION_COLOURS = {"pd-closures": BLUE, "pd-dismissals": VERMILLION}
DEFINITION_LABELS = {
    "pd-closures": "pd-closures: OTHER_COMP PD codes",
    "pd-dismissals": "pd-dismissals: also DEC_CODE dismissals (upper bound)",
}


@_in_house_style
def long_run(table: pd.DataFrame, ctx: Context, threshold: float | None = None) -> Figure:
    """PD per month (log scale, top) and the PD rate per month (bottom) under each definition of
    long_run.csv over the whole release; the run's window shaded, the policy dates of
    data/reference/policy_dates.csv and the eras named; threshold is the guard's line (PD a month)."""
    if not _has_data(table):
        return _no_data_figure(ctx, "PD per month over the whole release")
    d = table.assign(date=pd.to_datetime(table["month"], format="%Y-%m"))
    d["middle"] = d["date"] + pd.Timedelta(days=14)
    first, last = d["date"].min(), d["date"].max() + pd.offsets.MonthEnd(0)
    run_definition = getattr(ctx.method, "definition", "pd-closures")
    names = list(dict.fromkeys(d["definition"]))
    peaks = {name: frame.loc[frame["pd_closures"].idxmax()] for name, frame in d.groupby("definition", sort=False)}
    closures = peaks.get("pd-closures")
    title = (
        f"PD closures peaked at {count(closures['pd_closures'])} a month ({closures['date']:%b %Y})"
        if closures is not None and closures["pd_closures"] > 0
        else "No PD closures in the release"
    )
    dismissals = peaks.get("pd-dismissals")
    if dismissals is not None and dismissals["pd_closures"] > 0:
        title += (
            f"; counting dismissals as PD, the peak was {count(dismissals['pd_closures'])} a month "
            f"({dismissals['date']:%b %Y})"
        )
    policies = _policies_between(ctx, first, last)
    subtitle = (
        f"PD per month (top, log scale) and as a share of completions (bottom), every month of the release "
        f"({first:%b %Y} to {last:%b %Y}), under each definition. Shaded: this run's window ({ctx.window}), "
        f"counted with {run_definition}."
    )
    if threshold is not None:
        subtitle += f" Dashed: the guard's line, {threshold:g} PD a month (min_pd_per_month)."
    if len(policies):
        subtitle += " Numbered purple lines: policy dates \u2014 " + _policy_key(policies) + "."
    legend = [
        Line2D(
            [],
            [],
            color=DEFINITION_COLOURS.get(name, GREEN),
            lw=2.4 if name == run_definition else 1.4,
            label=DEFINITION_LABELS.get(name, name) + (" (this run)" if name == run_definition else ""),
        )
        for name in names
    ]
    legend.append(Line2D([], [], color=SKY, lw=8, alpha=0.35, label="This run's window"))
    fig = _frame(ctx, title, subtitle, 5.6, legend=legend, legend_columns=3, about_the_window=False)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[1.1, 1])
    for ax in (top, bottom):
        ax.axvspan(
            pd.Timestamp(ctx.window.start),
            pd.Timestamp(ctx.window.end) + pd.Timedelta(days=1),
            color=SKY,
            alpha=0.22,
            lw=0,
            zorder=0,
            gid="run-window",
        )
    top_value = 1.0
    for name in names:
        frame = d[d["definition"] == name].sort_values("date")
        colour, width = DEFINITION_COLOURS.get(name, GREEN), 2.0 if name == run_definition else 1.2
        top.plot(frame["middle"], frame["pd_closures"], color=colour, lw=width, zorder=3, gid=f"pd-a-month-{name}")
        counted = frame[frame["completions"] > 0]
        bottom.fill_between(
            counted["middle"], counted["ci_low"] * 100, counted["ci_high"] * 100, color=colour, alpha=0.18, lw=0
        )
        bottom.plot(counted["middle"], counted["pd_rate"] * 100, color=colour, lw=width, zorder=3)
        top_value = max(top_value, float(frame["pd_closures"].max()))
    if threshold is not None and threshold > 0:
        top.axhline(threshold, color=DARK, lw=1.0, ls="--", zorder=2, gid="guard-line")
        top.annotate(
            f"guard: {threshold:g} a month",
            (0.0, threshold),
            xycoords=("axes fraction", "data"),
            xytext=(3, 2),
            textcoords="offset points",
            va="bottom",
            fontsize=7.5,
            color=DARK,
        )
        top_value = max(top_value, threshold)
    # Log scale: 2,400 a month, under 100 and tens of thousands all readable; 0 sits on the axis.
    top.set_yscale("symlog", linthresh=1, linscale=0.4)
    top.set_ylim(0, top_value * 6)
    top.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:,.0f}"))
    top.set_ylabel("PD a month")
    top.grid(axis="y", which="minor", visible=False)
    bottom.set_ylabel("PD rate (% of completions)")
    _percent_axis(bottom.yaxis)
    rated = d[d["completions"] > 0]
    bottom.set_ylim(0, _axis_max(list(rated["ci_high"] * 100)))
    for ax in (top, bottom):
        ax.grid(axis="x", visible=False)
        ax.tick_params(axis="x", length=0)
    # Eras: named above the top panel, each over the months of the release it covers (where its name fits).
    span_days = (last - first).days + 30
    for era in ERAS:
        start, end = max(first, pd.Timestamp(era.start)), min(last, pd.Timestamp(era.end))
        if (end - start).days <= 0:
            continue
        if start > first:
            for ax in (top, bottom):
                ax.axvline(start, color=LIGHT_GREY, lw=1.0, zorder=1)
        if (end - start).days / span_days * (WIDTH - 1.4) < len(era.short) * 7.5 * 0.6 / 72:
            continue
        top.text(
            start + (end - start) / 2,
            1.01,
            era.short,
            transform=top.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=7.5,
            color=MUTED,
            gid="era-name",
        )
    _policy_lines(policies, (top, bottom), span_days)
    years = range(first.year + (first.month > 1), last.year + 1)
    step = 1 if len(years) <= 16 else 2
    ticks = [pd.Timestamp(year, 1, 1) for year in years if (year - years.start) % step == 0]
    bottom.set_xticks(ticks, [str(t.year) for t in ticks])
    bottom.set_xlim(first - pd.Timedelta(days=10), last + pd.Timedelta(days=10))
    bottom.set_xlabel("Month of completion")
    return fig


# --------------------------------------------------------------------------------------------
# 03 Fiscal years (TRAC report 339, Table 1)


@_in_house_style
def fiscal_years(fiscal_years: pd.DataFrame, ctx: Context) -> Figure:
    """PD closures and the PD rate per fiscal year, side by side; fiscal years partly in the window hatched."""
    if not _has_data(fiscal_years):
        return _no_data_figure(ctx, "PD closures and the PD closure rate by fiscal year")
    d = fiscal_years.sort_values("fiscal_year", ignore_index=True)
    if len(d) <= 3:
        parts = [
            f"{count(r.pd_closures)} in FY{r.fiscal_year} ({'partial year, ' if r.partial else ''}{pct(r.pd_rate)})"
            for r in d.itertuples()
        ]
        title = "ICE PD closures: " + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0])
    else:
        counted = d[d["completions"] > 0]
        low, high = counted.loc[counted["pd_rate"].idxmin()], counted.loc[counted["pd_rate"].idxmax()]
        title = (
            f"The PD closure rate ranged from {pct(low['pd_rate'])} (FY{low['fiscal_year']}) "
            f"to {pct(high['pd_rate'])} (FY{high['fiscal_year']})"
        )
    subtitle = (
        f"PD closures and their share of completions by federal fiscal year (October\u2013September), "
        f"{ctx.window}; the layout of TRAC report 339, Table 1."
    )
    if d["partial"].any():
        subtitle += " Hatched bars: only part of the fiscal year is in the window."
    fig = _frame(ctx, title, subtitle, 3.9)
    closures, rates = fig.subplots(1, 2)
    x = np.arange(len(d))
    size, turn = (7.0 if len(d) > 6 else 8.5), (90 if len(d) > 12 else 0)
    names = [
        f"FY{r.fiscal_year}"
        + (
            f" (partial)\n{pd.Timestamp(r.period_start):%b %Y}\u2013{pd.Timestamp(r.period_end):%b %Y}"
            if r.partial
            else ""
        )
        for r in d.itertuples()
    ]
    style = dict(
        color=[SKY if p else BLUE for p in d["partial"]],
        edgecolor=BLUE,
        lw=0.8,
        width=0.7,
        hatch=["////" if p else "" for p in d["partial"]],
    )
    closures.bar(x, d["pd_closures"], **style)
    closures.set_ylim(0, max(1, d["pd_closures"].max()) * 1.15)
    for xi, n in zip(x, d["pd_closures"]):
        closures.text(xi, n, count(n), ha="center", va="bottom", fontsize=size, rotation=turn, color=DARK)
    closures.set(title="PD closures (count)", ylabel="PD closures")
    _count_axis(closures.yaxis)
    percent = d["pd_rate"].fillna(0) * 100
    rates.bar(x, percent, **style)
    counted = (d["completions"] > 0).to_numpy()
    rates.errorbar(
        x[counted],
        percent[counted],
        fmt="none",
        ecolor=DARK,
        lw=1.0,
        capsize=3,
        yerr=[(percent - d["ci_low"] * 100)[counted], (d["ci_high"] * 100 - percent)[counted]],
    )
    top = _axis_max(list(d["ci_high"] * 100))
    rates.set_ylim(0, top * 1.12)
    for xi, value, high, rate in zip(x, percent, d["ci_high"].fillna(0) * 100, d["pd_rate"]):
        rates.text(
            xi,
            max(value, high) + top * 0.015,
            pct(rate),
            ha="center",
            va="bottom",
            fontsize=size,
            rotation=turn,
            color=DARK,
        )
    rates.set(title="PD rate (% of completions)", ylabel="PD rate (%)")
    _percent_axis(rates.yaxis)
    if len(d) > 6:
        rates.set_xlabel("Fiscal year; below it: completions (n)")
    n_prefix = "" if len(d) > 6 else "n="
    for ax, labels in (
        (closures, names),
        (rates, [f"{name}\n{n_prefix}{count(n)}" for name, n in zip(names, d["completions"])]),
    ):
        ax.set_xticks(x, labels, fontsize=size, rotation=turn)
        ax.grid(axis="x", visible=False)
        ax.tick_params(axis="x", length=0)
        ax.set_xlim(-0.6, len(d) - 0.4)
    return fig


# --------------------------------------------------------------------------------------------
# 04 States and circuits


@_in_house_style
def states_circuits(states: pd.DataFrame, circuits: pd.DataFrame, ctx: Context) -> Figure:
    """PD rate by state of the court and by federal circuit: two ranked panels with rows of the same height."""
    if not (_has_data(states) or _has_data(circuits)):
        return _no_data_figure(ctx, "PD closure rate by state and by federal circuit")
    overall = states if _has_data(states) else circuits
    rate = _rate(overall)
    panels = []
    for frame, key, label, name in (
        (states, "state", _state_label, "By state of the court"),
        (circuits, "circuit", _circuit_label, "By federal circuit"),
    ):
        rows = _ranked(frame, [label(value) for value in frame[key]], ctx.min_completions) if _has_data(frame) else None
        if rows is not None:
            rows = _with_gap(rows.assign(colour=np.where(rows["tier"] == 0, BLUE, GREY)))
        panels.append((name, rows))
    state_rows = panels[0][1]
    reliable = state_rows[state_rows["tier"] == 0] if state_rows is not None else pd.DataFrame()
    if len(reliable) >= 2 and states["pd_closures"].sum() > 0:
        low, high = reliable.loc[reliable["pd_rate"].idxmin()], reliable.loc[reliable["pd_rate"].idxmax()]
        title = (
            f"Across states, PD closure rates ranged from {pct(low['pd_rate'])} ({low['label']}) "
            f"to {pct(high['pd_rate'])} ({high['label']})"
        )
    elif overall["pd_closures"].sum() == 0:
        title = "No PD closures in any state or circuit in this window"
    else:
        title = f"PD closures were {pct(rate)} of completed {ctx.units} {ctx.overall_phrase}"
    subtitle = (
        f"Share of completed {ctx.units} closed by PD, by state of the immigration court and by federal "
        f"judicial circuit, {ctx.window}."
    )
    heights = [ROW * (len(rows) if rows is not None else 4) + 0.9 for _, rows in panels]
    fig = _frame(ctx, title, subtitle, max(heights) + 0.3, legend=_legend(ctx, first=[_dot(BLUE, "PD rate")]))
    fig.get_layout_engine().set(wspace=0.06)
    # The shorter panel takes the top row of a two-row grid, so that rows are equally high in both panels.
    grid = fig.add_gridspec(2, 2, height_ratios=[min(heights), max(heights) - min(heights) + 1e-6])
    xmax = _axis_max([v * 100 for _, rows in panels if rows is not None for v in rows["ci_high"]] + [rate * 100])
    for column, ((name, rows), height) in enumerate(zip(panels, heights)):
        ax = fig.add_subplot(grid[:, column] if height == max(heights) else grid[0, column])
        if rows is None:
            _no_data(ax)
            continue
        _plot_dots(rows, order=list(rows["label"])).on(ax).plot()
        ax.set_title(name, pad=16)
        _finish_panel(ax, rows, xmax=xmax, overall=ctx.overall, rate=rate)
        ax.set_xlabel("PD rate (% of completions)")
    return fig


# --------------------------------------------------------------------------------------------
# 05 Hearing locations of the largest courts (small multiples)

LOCATIONS_PER_COURT = 10
NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


@_in_house_style
def hearing_locations(locations: pd.DataFrame, courts: pd.DataFrame, ctx: Context, n_courts: int = 6) -> Figure:
    """One panel per court with the most completions: the PD rate at each of its hearing locations."""
    if not (_has_data(locations) and _has_data(courts)):
        return _no_data_figure(ctx, "PD closure rate by hearing location, largest courts")
    labels = _court_labels(courts)
    largest = (
        courts[courts["completions"] > 0]
        .sort_values(["completions", "base_city_code"], ascending=[False, True], kind="mergesort")
        .head(n_courts)
    )
    panels, hidden = [], {}
    for court in largest.itertuples():
        title = f"{labels[court.base_city_code]}: {pct(court.pd_rate)} (n={count(court.completions)})"
        at_court = locations[(locations["base_city_code"] == court.base_city_code) & (locations["completions"] > 0)]
        codes = at_court["hearing_loc_code"]
        names = _distinct([_shorten(name or code) for name, code in zip(at_court["hearing_location"], codes)], codes)
        rows = _ranked(at_court, names, ctx.min_completions)
        hidden[title] = rows.iloc[LOCATIONS_PER_COURT:]
        rows = rows.iloc[:LOCATIONS_PER_COURT]
        panels.append(
            _with_gap(rows.assign(colour=np.where(rows["tier"] == 0, BLUE, GREY))).assign(
                panel=title, highlighted=_highlighted(court.base_city_code, court.court)
            )
        )
    reliable = pd.concat([rows[rows["tier"] == 0] for rows in panels])
    k = len(panels)
    which = "the largest court" if k == 1 else f"the {NUMBER_WORDS.get(k, k)} largest courts"
    if len(reliable) >= 2 and reliable["pd_rate"].max() > 0:
        title = (
            f"Within {which}, hearing-location PD rates ranged from {pct(reliable['pd_rate'].min())} "
            f"to {pct(reliable['pd_rate'].max())}"
        )
    elif locations["pd_closures"].sum() == 0:
        title = f"No PD closures at any hearing location of {which}"
    else:
        title = f"PD closure rates at the hearing locations of {which}"
    subtitle = (
        f"Share of completed {ctx.units} closed by PD at each hearing location of "
        f"{'the court' if k == 1 else f'the {k} courts'} with the most completions, {ctx.window}; "
        f"at most {LOCATIONS_PER_COURT} locations per court, highest rates first."
    )
    columns = 2 if k > 1 else 1
    tallest = max(len(rows) + (1 if len(hidden[rows["panel"].iloc[0]]) else 0) for rows in panels)
    body = math.ceil(k / columns) * (ROW * (tallest + 1) + 0.75)
    fig = _frame(
        ctx,
        title,
        subtitle,
        body,
        width=11.0 if columns == 2 else WIDTH,
        legend=_legend(ctx, first=[_dot(BLUE, "PD rate")]),
    )
    fig.get_layout_engine().set(wspace=0.05, hspace=0.06)
    data = pd.concat(panels, ignore_index=True)
    rate = _rate(courts)
    xmax = _axis_max(list(data["ci_high"] * 100) + [rate * 100])
    # Small multiples: seaborn facets, each panel with its own locations (y not shared).
    (
        _plot_dots(data)
        .facet(col="panel", wrap=columns, order=[rows["panel"].iloc[0] for rows in panels])
        .share(y=False)
        .label(x="PD rate (% of completions)")
        .on(fig)
        .plot()
    )
    for ax, rows in zip(fig.axes, panels):
        ax.set_title(rows["panel"].iloc[0], pad=14, color=VERMILLION if rows["highlighted"].iloc[0] else DARK)
        ax.set_ylim(tallest - 0.5, -0.5)  # rows of the same height in every panel
        _finish_panel(ax, rows, xmax=xmax, overall=ctx.overall, rate=rate)
        ax.xaxis.set_tick_params(labelbottom=True)
        more = hidden[rows["panel"].iloc[0]]
        if len(more):
            ax.text(
                0.01,
                len(rows),
                f"+ {len(more)} more location{'s' if len(more) > 1 else ''} not shown "
                f"(n={count(more['completions'].sum())})",
                transform=ax.get_yaxis_transform(),
                va="center",
                fontsize=7,
                color=MUTED,
            )
    return fig


# --------------------------------------------------------------------------------------------
# 06 Court map (US state outlines: the Census Bureau's file in plotly-geo, read with pyshp)

# Approximate city centres (degrees) of places with an immigration court, keyed like _court_key.
COURT_COORDS = {
    "ADELANTO, CA": (34.58, -117.41),
    "ANNANDALE, VA": (38.83, -77.20),
    "ARLINGTON, VA": (38.88, -77.10),
    "ATLANTA, GA": (33.75, -84.39),
    "AURORA, CO": (39.73, -104.83),
    "BALTIMORE, MD": (39.29, -76.61),
    "BATAVIA, NY": (43.00, -78.19),
    "BLOOMINGTON, MN": (44.84, -93.30),
    "BOSTON, MA": (42.36, -71.06),
    "BUFFALO, NY": (42.89, -78.88),
    "CHAPARRAL, NM": (32.04, -106.41),
    "CHARLOTTE, NC": (35.23, -80.84),
    "CHELMSFORD, MA": (42.60, -71.37),
    "CHICAGO, IL": (41.88, -87.63),
    "CLEVELAND, OH": (41.50, -81.69),
    "COLUMBUS, OH": (39.96, -83.00),
    "CONCORD, CA": (37.98, -122.03),
    "CONROE, TX": (30.31, -95.46),
    "DALLAS, TX": (32.78, -96.80),
    "DENVER, CO": (39.74, -104.99),
    "DETROIT, MI": (42.33, -83.05),
    "DILLEY, TX": (28.67, -99.17),
    "EL PASO, TX": (31.76, -106.49),
    "ELIZABETH, NJ": (40.66, -74.21),
    "ELOY, AZ": (32.76, -111.55),
    "FISHKILL, NY": (41.54, -73.90),
    "FLORENCE, AZ": (33.03, -111.39),
    "FORT SNELLING, MN": (44.89, -93.18),
    "FORT WORTH, TX": (32.76, -97.33),
    "GUAYNABO, PR": (18.36, -66.11),
    "HAGATNA, GU": (13.47, 144.75),
    "HARLINGEN, TX": (26.19, -97.70),
    "HARTFORD, CT": (41.76, -72.69),
    "HONOLULU, HI": (21.31, -157.86),
    "HOUSTON, TX": (29.76, -95.37),
    "HYATTSVILLE, MD": (38.96, -76.95),
    "IMPERIAL, CA": (32.85, -115.57),
    "INDIANAPOLIS, IN": (39.77, -86.16),
    "JENA, LA": (31.68, -92.13),
    "KANSAS CITY, MO": (39.10, -94.58),
    "KROME, FL": (25.75, -80.49),
    "LANCASTER, CA": (34.70, -118.14),
    "LAREDO, TX": (27.51, -99.51),
    "LAS VEGAS, NV": (36.17, -115.14),
    "LOS ANGELES, CA": (34.05, -118.24),
    "LOS FRESNOS, TX": (26.07, -97.48),
    "LOUISVILLE, KY": (38.25, -85.76),
    "LUMPKIN, GA": (32.05, -84.80),
    "MEMPHIS, TN": (35.15, -90.05),
    "MIAMI, FL": (25.76, -80.19),
    "NAPANOCH, NY": (41.74, -74.37),
    "NASHVILLE, TN": (36.16, -86.78),
    "NEW ORLEANS, LA": (29.95, -90.07),
    "NEW YORK, NY": (40.71, -74.01),
    "NEWARK, NJ": (40.74, -74.17),
    "OAKDALE, LA": (30.82, -92.66),
    "OMAHA, NE": (41.26, -95.94),
    "ORLANDO, FL": (28.54, -81.38),
    "OTAY MESA, CA": (32.57, -116.99),
    "PEARSALL, TX": (28.89, -99.10),
    "PHILADELPHIA, PA": (39.95, -75.17),
    "PHOENIX, AZ": (33.45, -112.07),
    "PORTLAND, OR": (45.52, -122.68),
    "RICHMOND, VA": (37.54, -77.44),
    "SACRAMENTO, CA": (38.58, -121.49),
    "SAINT LOUIS, MO": (38.63, -90.20),
    "SAINT PAUL, MN": (44.95, -93.09),
    "SAIPAN, MP": (15.18, 145.75),
    "SALT LAKE CITY, UT": (40.76, -111.89),
    "SAN ANTONIO, TX": (29.42, -98.49),
    "SAN DIEGO, CA": (32.72, -117.16),
    "SAN FRANCISCO, CA": (37.77, -122.42),
    "SAN JUAN, PR": (18.47, -66.11),
    "SEATTLE, WA": (47.61, -122.33),
    "ST LOUIS, MO": (38.63, -90.20),
    "ST PAUL, MN": (44.95, -93.09),
    "STERLING, VA": (39.01, -77.43),
    "TACOMA, WA": (47.25, -122.44),
    "TUCSON, AZ": (32.22, -110.97),
    "VAN NUYS, CA": (34.19, -118.45),
    "WEST VALLEY, UT": (40.69, -112.00),
    "WEST VALLEY CITY, UT": (40.69, -112.00),
    "YORK, PA": (39.96, -76.73),
}
# Map panels: the states each shows (None: the 48 contiguous states and DC), its Albers projection, and where
# an inset sits on the main map (axes fraction) with its name.
MAP_AREAS = {
    "CONUS": (None, dict(lon0=-96.0, lat0=37.5, p1=29.5, p2=45.5), None, ""),
    "AK": (("AK",), dict(lon0=-152.0, lat0=50.0, p1=55.0, p2=65.0), [0.0, 0.0, 0.20, 0.24], "Alaska"),
    "HI": (("HI",), dict(lon0=-157.0, lat0=13.0, p1=8.0, p2=18.0), [0.21, 0.0, 0.13, 0.13], "Hawaii"),
    "MP": (
        ("MP", "GU"),
        dict(lon0=145.0, lat0=15.0, p1=13.0, p2=17.0),
        [0.36, 0.0, 0.07, 0.12],
        "N. Mariana Is. & Guam",
    ),
    "PR": (("PR",), dict(lon0=-66.4, lat0=18.0, p1=17.0, p2=19.0), [0.60, 0.0, 0.10, 0.08], "Puerto Rico"),
}
OUTSIDE_CONUS = {"AK", "HI", "PR", "MP", "GU", "VI", "AS"}


def shapefile_path() -> Path | None:
    """The US state outlines, when the packages plotly-geo and pyshp are installed."""
    try:
        import _plotly_geo  # package plotly-geo
        import shapefile  # noqa: F401  (package pyshp)
    except ImportError:
        return None
    path = Path(_plotly_geo.__file__).parent / "package_data" / "cb_2016_us_state_500k.shp"
    return path if path.is_file() else None


def _court_key(court) -> str:
    return " ".join(str(court or "").upper().replace(".", "").split()).replace(" ,", ",")


def _area(key: str) -> str:
    state = key.rsplit(", ", 1)[-1]
    return {"GU": "MP"}.get(state, state) if state in OUTSIDE_CONUS else "CONUS"


def _albers(lon, lat, lon0, lat0, p1, p2):
    """Albers equal-area conic projection (unit sphere)."""
    lon, lat = np.radians(np.asarray(lon, float)), np.radians(np.asarray(lat, float))
    lon0, lat0, p1, p2 = map(math.radians, (lon0, lat0, p1, p2))
    n = (math.sin(p1) + math.sin(p2)) / 2
    c = math.cos(p1) ** 2 + 2 * n * math.sin(p1)
    rho0 = math.sqrt(c - 2 * n * math.sin(lat0)) / n
    theta = n * ((lon - lon0 + np.pi) % (2 * np.pi) - np.pi)
    rho = np.sqrt(c - 2 * n * np.sin(lat)) / n
    return rho * np.sin(theta), rho0 - rho * np.cos(theta)


@functools.cache
def _state_outlines() -> dict[str, tuple]:
    """Projected state outlines per map area, with points closer than the drawing can show dropped."""
    import shapefile

    reader = shapefile.Reader(str(shapefile_path()))
    state_field = [field[0] for field in reader.fields[1:]].index("STUSPS")
    outlines: dict[str, list] = {area: [] for area in MAP_AREAS}
    for record, shape in zip(reader.records(), reader.shapes()):
        state = record[state_field]
        area = next(
            (a for a, (states, *_) in MAP_AREAS.items() if states and state in states),
            None if state in OUTSIDE_CONUS else "CONUS",
        )
        if area is None:
            continue
        points = np.asarray(shape.points, float)
        tolerance = 0.0012 if area == "CONUS" else 0.0006
        for a, b in zip(shape.parts, [*shape.parts[1:], len(points)]):
            xy = np.column_stack(_albers(points[a:b, 0], points[a:b, 1], **MAP_AREAS[area][1]))
            grid = np.round(xy / tolerance)
            keep = np.r_[True, np.any(grid[1:] != grid[:-1], axis=1)]
            if np.ptp(xy, axis=0).max() >= 4 * tolerance and keep.sum() >= 4:
                outlines[area].append(xy[keep])
    return {area: tuple(rings) for area, rings in outlines.items()}


@_in_house_style
def court_map(courts: pd.DataFrame, ctx: Context) -> Figure | None:
    """A bubble per court on a US map: area ~ completions, colour = PD rate; None (with a warning) when the
    packages with the US geometry (plotly-geo, pyshp) are not installed."""
    if shapefile_path() is None:
        log.warning("court map skipped: the US state outlines need the packages plotly-geo and pyshp")
        return None
    if not _has_data(courts):
        return _no_data_figure(ctx, "Map of PD closure rates by immigration court")
    labels = _court_labels(courts)
    d = courts[courts["completions"] > 0].assign(key=lambda f: [_court_key(c) for c in f["court"]])
    placed = d["key"].isin(list(COURT_COORDS))
    unplaced, d = d[~placed], d[placed].sort_values("completions", ascending=False, kind="mergesort")
    d["lat"], d["lon"] = zip(*[COURT_COORDS[key] for key in d["key"]]) if len(d) else ((), ())
    d["area"] = [_area(key) for key in d["key"]]
    reliable = d[d["completions"] >= ctx.min_completions]
    rate = _rate(courts)
    if len(reliable) and reliable["pd_rate"].max() > 0:
        top = reliable.loc[reliable["pd_rate"].idxmax()]
        title = (
            f"PD closure rates were highest in {labels[top['base_city_code']]} ({pct(top['pd_rate'])}); "
            f"{ctx.overall_phrase} {pct(rate)}"
        )
    elif courts["pd_closures"].sum() == 0:
        title = f"No court closed any {ctx.method.unit} by prosecutorial discretion in this window"
    else:
        title = f"PD closures were {pct(rate)} of completions {ctx.overall_phrase}"
    subtitle = (
        f"Immigration courts, {ctx.window}: bubble area = completions, colour = share closed by PD. "
        f"Hollow bubbles: fewer than {ctx.min_completions:,} completions (rate not coloured)."
    )
    if len(unplaced):
        subtitle += f" Not mapped (no coordinates): {len(unplaced)} court(s), n={count(unplaced['completions'].sum())}."
    fig = _frame(ctx, title, subtitle, 6.2)
    ax = fig.add_subplot()
    outlines = _state_outlines()
    vmax = _axis_max(reliable["pd_rate"] * 100) / 100 if len(reliable) else 0.01
    colours = matplotlib.colors.Normalize(vmin=0, vmax=vmax)
    largest = float(d["completions"].max()) if len(d) else 1.0

    def size(n):
        return 900.0 * np.asarray(n, float) / largest + 6.0

    panels = {}
    for area, (states, _, inset, name) in MAP_AREAS.items():
        if area == "MP" and not (d["area"] == "MP").any():
            continue
        panel = ax if inset is None else ax.inset_axes(inset)
        panel.set_aspect("equal")
        panel.set_axis_off()
        panel.add_collection(
            PolyCollection(
                list(outlines[area]), facecolor="#EFEFEF", edgecolor="white", lw=0.6 if inset is None else 0.4, zorder=0
            )
        )
        if inset is None:
            panel.set(xlim=(-0.40, 0.40), ylim=(-0.26, 0.26))
        else:
            points = np.vstack(outlines[area])
            low, high = points.min(axis=0), points.max(axis=0)
            pad = (high - low) * 0.08
            panel.set(xlim=(low[0] - pad[0], high[0] + pad[0]), ylim=(low[1] - pad[1], high[1] + pad[1]))
            panel.text(0.5, 0.0, name, transform=panel.transAxes, ha="center", va="top", fontsize=7, color="#777777")
        panels[area] = panel
    for area, at in d.groupby("area", sort=True):
        panel = panels[area]  # every area of COURT_COORDS has a panel
        x, y = _albers(at["lon"], at["lat"], **MAP_AREAS[area][1])
        big = (at["completions"] >= ctx.min_completions).to_numpy()
        panel.scatter(
            x[big],
            y[big],
            s=size(at["completions"][big]),
            c=at["pd_rate"][big],
            cmap="cividis_r",
            norm=colours,
            edgecolor="white",
            lw=0.6,
            alpha=0.9,
            zorder=3,
            gid="court-bubbles",
        )
        panel.scatter(
            x[~big],
            y[~big],
            s=size(at["completions"][~big]),
            facecolor="none",
            edgecolor=GREY,
            lw=0.9,
            zorder=3,
            gid="court-bubbles",
        )
        for court, xi, yi in zip(at.itertuples(), x, y):
            if _highlighted(court.base_city_code, court.court):
                panel.annotate(
                    f"{court.court.split(',')[0]} {pct(court.pd_rate)}\nn={count(court.completions)}",
                    (xi, yi),
                    xytext=(9, 6),
                    textcoords="offset points",
                    fontsize=8,
                    fontweight="bold",
                    color=VERMILLION,
                    zorder=5,
                    bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=1),
                )
    key = ax.inset_axes([0.72, 0.07, 0.26, 0.025])
    bar = fig.colorbar(matplotlib.cm.ScalarMappable(norm=colours, cmap="cividis_r"), cax=key, orientation="horizontal")
    bar.set_label("PD rate (% of completions)", fontsize=8)
    bar.ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value * 100:g}%"))
    bar.ax.tick_params(labelsize=7.5)
    bar.outline.set_visible(False)
    magnitude = 10 ** math.floor(math.log10(largest))
    sizes = sorted({max(1, int(largest // magnitude * magnitude / share)) for share in (1, 4, 20)})
    ax.legend(
        handles=[
            Line2D([], [], ls="", marker="o", markersize=math.sqrt(size(n)), mfc="#BBBBBB", mec="white", label=count(n))
            for n in sizes
        ],
        title="Completions (n)",
        loc="upper right",
        fontsize=7.5,
        title_fontsize=8,
        labelspacing=1.6,
        borderpad=0.8,
        handletextpad=1.4,
    )
    return fig


# --------------------------------------------------------------------------------------------
# 07 Sensitivity to the definition (notebook 04)


@_in_house_style
def sensitivity(sens: pd.DataFrame, ctx: Context, reference: tuple[float, str] | None = None) -> Figure:
    """The rate under each definition of validation.sensitivity, with 95% intervals; reference is TRAC's
    published figure for the window (percent, source), drawn as a dashed line."""
    d = sens.reset_index(drop=True)
    eoir_basis = d["denominator"].str.startswith("EOIR")  # there for its completions total, not a PD rate
    rated = d[d["pd_rate"].notna() & ~eoir_basis]
    if not len(rated):
        return _no_data_figure(ctx, "PD closure rate under alternative definitions")
    default_rate = d.loc[d["is_default"].astype(bool), "pd_rate"].iloc[0] if d["is_default"].any() else math.nan
    low, high = rated.loc[rated["pd_rate"].idxmin()], rated.loc[rated["pd_rate"].idxmax()]
    where = (
        f"PD closure rate (courts {', '.join(ctx.method.courts)})" if ctx.method.courts else "national PD closure rate"
    )
    if np.isnan(default_rate):
        title = "No completions in this window under the run's method"
    else:
        title = (
            f"The {where} ranges from {pct(low['pd_rate'])} to {pct(high['pd_rate'])} across {len(rated)} "
            f"definitions; the run's method gives {pct(default_rate)}"
        )
    subtitle = (
        f"Share of {ctx.units} closed by ICE prosecutorial discretion, {ctx.window}, with each definition "
        "changing one thing from the run's method. Whiskers: 95% Wilson intervals; right: rate "
        "(PD closures / denominator)."
    )
    legend = [
        _dot(VERMILLION, "Run's method"),
        _dot(BLUE, "Alternative (denominator: completions)"),
        _dot(GREEN, "Denominator: pending at start", marker="D"),
    ]
    if eoir_basis.any():
        legend.append(_dot(GREY, "Denominator: EOIR's completions (not in the title's range)", marker="s"))
    if reference is not None:
        legend.append(Line2D([], [], color=DARK, lw=1.0, ls="--", label="TRAC published"))
    fig = _frame(ctx, title, subtitle, 0.42 * len(d) + 0.9, legend=legend, legend_columns=2)
    ax = fig.add_subplot()
    pending = d["denominator"] == "proceedings pending at start"
    rows = d.assign(
        label=d["label"].astype(str),
        tier=0,  # in the table's order: no tiers
        colour=np.where(
            d["is_default"].astype(bool), VERMILLION, np.where(pending, GREEN, np.where(eoir_basis, GREY, BLUE))
        ),
        marker=np.where(pending, "D", np.where(eoir_basis, "s", "o")),
    )
    _plot_dots(rows, order=list(rows["label"])).on(ax).plot()
    xmax = _axis_max(list(d["ci_high"] * 100) + ([reference[0]] if reference else []))
    _finish_panel(
        ax,
        rows,
        xmax=xmax,
        right_labels=[
            f"{pct(r.pd_rate, 2)}  ({count(r.pd_closures)} / {count(r.completions)})" for r in d.itertuples()
        ],
    )
    for label in ax.get_yticklabels():
        label.set_color(DARK)
    if reference is not None:
        ax.axvline(reference[0], color=DARK, lw=1.0, ls="--", zorder=1, gid="published-rate")
        ax.annotate(
            f"TRAC: {reference[0]:g}%",
            (reference[0], 1.0),
            xycoords=("data", "axes fraction"),
            xytext=(3, 2),
            textcoords="offset points",
            va="bottom",
            fontsize=8,
            color=DARK,
        )
    ax.set_xlabel("PD closures as a share of the denominator (%)")
    return fig


# --------------------------------------------------------------------------------------------
# 09 Nationalities

NATIONALITIES_SHOWN = 20


def _nationality_label(code, name) -> str:
    """'Mexico' from the lookup's 'MEXICO'; a bare code (no lookup in the release) or a note such as
    '(unknown code XX)' as it is."""
    name = str(name or code or "").strip()
    return name if not name or name == code or name.startswith("(") else name.title()


@_in_house_style
def nationalities(nationalities: pd.DataFrame, national: pd.DataFrame, ctx: Context, top: int = NATIONALITIES_SHOWN):
    """The `top` nationalities with the most completions, ranked by PD rate with 95% intervals and n; those
    under min_completions set apart below; the national rate as a dashed line."""
    if not _has_data(nationalities):
        return _no_data_figure(ctx, "PD closure rate by nationality")
    rate = _rate(national) if _has_data(national) else _rate(nationalities)
    counted = nationalities[nationalities["completions"] > 0]
    largest = counted.sort_values(["completions", "nat"], ascending=[False, True], kind="mergesort").head(top)
    names = [_nationality_label(code, name) for code, name in zip(largest["nat"], largest["nationality"])]
    rows = _ranked(largest, _distinct(names, largest["nat"]), ctx.min_completions)
    rows["colour"] = np.where(rows["tier"] == 0, BLUE, GREY)
    reliable = rows[rows["tier"] == 0]
    shown = "the nationality" if len(rows) == 1 else f"the {len(rows)} nationalities"
    if nationalities["pd_closures"].sum() == 0:
        title = f"No nationality had any {ctx.method.unit} closed by prosecutorial discretion in this window"
    elif len(reliable) >= 2:
        high, low = reliable.iloc[0], reliable.iloc[-1]
        title = (
            f"Among {shown} with the most completions, PD closure rates ranged from {pct(low['pd_rate'])} "
            f"({low['label']}) to {pct(high['pd_rate'])} ({high['label']}); {ctx.overall_phrase} {pct(rate)}"
        )
    else:
        title = f"PD closures were {pct(rate)} of completed {ctx.units} {ctx.overall_phrase}"
    rest = counted.iloc[0:0] if len(counted) <= len(largest) else counted[~counted["nat"].isin(largest["nat"])]
    subtitle = (
        f"Share of completed {ctx.units} closed by ICE prosecutorial discretion (PD), by nationality (NAT), "
        f"{ctx.window}: {shown} with the most completions, ranked by rate; those with fewer than "
        f"{ctx.min_completions:,} completions set apart below."
    )
    if len(rest):
        subtitle += (
            f" Not shown: {len(rest):,} other {'nationality' if len(rest) == 1 else 'nationalities'} with "
            f"{count(rest['completions'].sum())} completions in all ({pct(_rate(rest))} closed by PD)."
        )
    legend = _legend(ctx, first=[_dot(BLUE, "Nationality")])
    return _ranked_figure(ctx, rows, rate, title, subtitle, legend)


# --------------------------------------------------------------------------------------------
# Comparing two releases (notebooks/compare_releases.ipynb)


def _signed(n) -> str:
    return f"{int(n):+,}".replace("-", "\u2212") if n else "0"


@_in_house_style
def release_change(courts: pd.DataFrame, national: pd.DataFrame, ctx: Context, top: int = 25) -> Figure:
    """Per court, the change in PD closures and in completions from the old release to the new (tables
    shaped like compare.py's courts_compare and national_compare), the largest change first; the
    national change is stated in the title. ctx.release_label names both releases."""
    old, new, diff = (national.set_index("release").loc[side] for side in ("old", "new", "difference"))
    where = f"across courts {', '.join(ctx.method.courts)}" if ctx.method.courts else "nationally"
    title = (
        f"From the old release to the new, PD closures {where} changed by {_signed(diff['pd_closures'])} "
        f"({count(old['pd_closures'])} to {count(new['pd_closures'])}) and completions by "
        f"{_signed(diff['completions'])} ({count(old['completions'])} to {count(new['completions'])}); "
        f"the PD rate went from {pct(old['pd_rate'])} to {pct(new['pd_rate'])}"
    )
    changed = courts[(courts["pd_closures_change"] != 0) | (courts["completions_change"] != 0)]
    shown = changed.head(top)
    subtitle = (
        f"Change per immigration court in the {ctx.units} counted for {ctx.window}: new release minus old. "
        f"{len(changed)} of {len(courts)} courts changed"
        + (f"; the {len(shown)} with the largest change in PD closures shown" if len(shown) < len(changed) else "")
        + "; largest change in PD closures first."
    )
    legend = [
        Line2D([], [], color=BLUE, lw=6, label="More in the new release"),
        Line2D([], [], color=VERMILLION, lw=6, label="Fewer in the new release"),
    ]
    if shown.empty:
        fig = _frame(ctx, title, subtitle, 2.0)
        _no_data(fig.add_subplot(), "No court's counts changed between the releases")
        return fig
    labels = _court_labels(courts)
    names = [labels[code] for code in shown["base_city_code"]]
    fig = _frame(ctx, title, subtitle, ROW * len(shown) + 0.9, legend=legend)
    axes = fig.subplots(1, 2, sharey=True)
    positions = np.arange(len(shown))
    for ax, column, heading in (
        (axes[0], "pd_closures_change", "Change in PD closures"),
        (axes[1], "completions_change", "Change in completions"),
    ):
        values = shown[column].to_numpy()
        ax.barh(positions, values, color=np.where(values >= 0, BLUE, VERMILLION), height=0.65, zorder=2)
        ax.axvline(0, color=DARK, lw=0.8, zorder=3)
        reach = max(1, int(np.abs(values).max()))
        ax.set_xlim(-reach * 1.25, reach * 1.25)
        for y, value in zip(positions, values):
            ax.annotate(
                _signed(value),
                (value, y),
                xytext=(3 if value >= 0 else -3, 0),
                textcoords="offset points",
                ha="left" if value >= 0 else "right",
                va="center",
                fontsize=7.5,
                color=MUTED,
            )
        ax.set_title(heading, fontsize=9.5, loc="left")
        ax.grid(axis="y", visible=False)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: _signed(value) if value else "0"))
        ax.xaxis.set_major_locator(MaxNLocator(nbins=6, integer=True, symmetric=True))
    axes[0].set_yticks(positions, names)
    axes[0].tick_params(axis="y", length=0)
    axes[0].invert_yaxis()
    return fig
