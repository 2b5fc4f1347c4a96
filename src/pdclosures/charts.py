"""How each figure of a run is drawn: the house style, the figure functions and saving.

Every figure uses the house style sheet ``pdclosures.mplstyle``, states its finding in the title,
labels rates in percent with 95% Wilson intervals and n, carries a source-and-method note built
from the run's parameters, and is watermarked when the run used the synthetic sample.

The figure functions (``courts_ranked``, ``monthly_trend``, ``fiscal_years``, ``states_circuits``,
``hearing_locations``, ``court_map``) take DataFrames shaped like the processed CSVs plus a
``FigureContext`` and return a matplotlib Figure; ``save_figure`` writes PNG (200 dpi), SVG and
PDF, byte for byte reproducibly (dates, software versions and random SVG ids are stripped or
fixed); ``draw_figures`` does both for the figures of one run.

Notebooks call ``figures.render_all``, which hands the figures out to worker processes that
import this module (matplotlib, pandas) once.
"""

from __future__ import annotations

import logging
import math
import textwrap
import threading
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.transforms as mtransforms  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402

from .errors import ReleaseError  # noqa: E402
from .figures import PNG_DPI, SAVE_FORMATS, map_available, read_ingest_info, shapefile_path  # noqa: E402

log = logging.getLogger(__name__)

STYLE_PATH = Path(__file__).with_name("pdclosures.mplstyle")
# data/reference/policy_dates.csv of the source checkout (the package is installed editable).
DEFAULT_POLICY_DATES = Path(__file__).resolve().parents[2] / "data" / "reference" / "policy_dates.csv"

# Okabe-Ito colours.
BLUE = "#0072B2"
VERMILLION = "#D55E00"
ORANGE = "#E69F00"
GREEN = "#009E73"
PURPLE = "#CC79A7"
SKY = "#56B4E9"
GREY = "#9A9A9A"
DARK = "#222222"
LIGHT_BLUE = "#A6CEE8"

HIGHLIGHT_CODES = ("TUC", "SEA")  # the two courts TRAC singled out (about 30% PD closures)
HIGHLIGHT_CITIES = ("TUCSON", "SEATTLE")
WATERMARK_TEXT = "SYNTHETIC SAMPLE \u2014 NOT REAL DATA"
NO_DATA_TEXT = "No completions in this window"
SYNTHETIC_NOTE = "Synthetic sample data \u2014 not real EOIR records."

SAVE_METADATA = {
    "png": {"Software": None},
    "svg": {"Date": None, "Creator": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
}
SVG_HASHSALT = "pdclosures"
# zlib level of the PNGs: 3 encodes a third faster than Pillow's default 6, for files 4% larger.
PNG_COMPRESS_LEVEL = 3

FIG_WIDTH = 10.0      # inches
ROW_HEIGHT = 0.22     # inches per labelled row in the ranked dot plots
TITLE_SIZE = 13.0
SUBTITLE_SIZE = 9.5
NOTE_SIZE = 7.5
MARGIN = 0.18         # inches, left edge of title and note

OTHER_COMP_NAMES = {"C": "change of venue", "T": "transfer"}


# --------------------------------------------------------------------------------------------
# Run context and the source note
# --------------------------------------------------------------------------------------------

def _codes(codes: str | Iterable[str] | None) -> tuple[str, ...]:
    if codes is None:
        return ()
    if isinstance(codes, str):
        parts = codes.split(",")
    else:
        parts = list(codes)
    return tuple(p.strip().upper() for p in parts if str(p).strip())


@dataclass(frozen=True)
class FigureContext:
    """What every figure needs to know about the run, besides its tables."""

    start: str
    end: str
    release_name: str | None = None
    release_date: str | None = None
    synthetic: bool = False
    pd_codes: tuple[str, ...] = ("Y", "M", "I")
    excluded_codes: tuple[str, ...] = ("C", "T")
    unit: str = "proceeding"
    min_completions: int = 100
    case_types: str = "all"
    courts: tuple[str, ...] = ()  # empty: all courts; else the run is restricted to these codes
    policy_dates: pd.DataFrame | None = field(default=None, compare=False, repr=False)

    @classmethod
    def build(cls, *, start, end, pd_codes="Y,M,I", excluded_codes="C,T", unit="proceeding",
              min_completions=100, release_name=None, release_date=None, synthetic=False,
              case_types="all", courts="", policy_dates=None) -> "FigureContext":
        return cls(
            start=str(start), end=str(end),
            release_name=release_name or None, release_date=release_date or None,
            synthetic=bool(synthetic),
            pd_codes=_codes(pd_codes), excluded_codes=_codes(excluded_codes),
            unit=str(unit or "proceeding"), min_completions=int(min_completions),
            case_types=str(case_types or "all").strip() or "all", courts=_codes(courts),
            policy_dates=policy_dates,
        )

    @property
    def units(self) -> str:
        """Plural of the unit of count, for titles ("proceedings", "cases")."""
        u = self.unit.strip().lower()
        return u if u.endswith("s") else u + "s"

    @property
    def overall(self) -> str:
        """Name of the run-wide rate: national, or over the courts the run is restricted to."""
        return "Selected courts" if self.courts else "National"

    @property
    def overall_phrase(self) -> str:
        return "across the selected courts" if self.courts else "nationally"

    @property
    def release_label(self) -> str:
        return self.release_date or self.release_name or "(release not recorded)"

    @property
    def window(self) -> str:
        return f"{self.start}\u2013{self.end}"

    def note(self) -> str:
        """The source-and-method line printed at the bottom of every figure."""
        pd_set = ", ".join(self.pd_codes) if self.pd_codes else "(none)"
        if self.excluded_codes:
            excl = " and ".join(
                f"{OTHER_COMP_NAMES[c]} ({c})" if c in OTHER_COMP_NAMES else f"OTHER_COMP {c}"
                for c in self.excluded_codes
            )
            excl = f"completions exclude {excl}"
        else:
            excl = "completions exclude no OTHER_COMP code"
        text = (
            f"Source: EOIR case-data release {self.release_label}. Window {self.window}. "
            f"PD closure = OTHER_COMP in {{{pd_set}}}; {excl}; unit: {self.unit}"
            + ("" if self.case_types.lower() == "all" else f"; case types: {self.case_types}")
            + (f"; courts: {', '.join(self.courts)}" if self.courts else "")
            + ". Rates with 95% Wilson intervals."
        )
        if self.synthetic:
            text = f"{SYNTHETIC_NOTE} " + text
        return text


def read_policy_dates(path: Path | None = None) -> pd.DataFrame:
    """The editable table of policy dates (date,label,source_url); empty if the file is absent."""
    path = Path(path) if path is not None else DEFAULT_POLICY_DATES
    if not path.exists():
        log.warning("policy dates file %s not found; no policy dates annotated", path)
        return pd.DataFrame({"date": pd.Series([], dtype="datetime64[ns]"),
                             "label": pd.Series([], dtype=object)})
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df["date"] = pd.to_datetime(df["date"], format="%Y-%m-%d")
    return df.sort_values("date").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# Reading the processed tables
# --------------------------------------------------------------------------------------------

TABLES = {
    "national": ["start", "end", "pd_closures", "completions", "pd_rate", "ci_low", "ci_high"],
    "fiscal_years": ["fiscal_year", "period_start", "period_end", "partial", "pd_closures",
                     "completions", "pd_rate", "ci_low", "ci_high"],
    "months": ["month", "fiscal_year", "pd_closures", "completions", "pd_rate", "ci_low",
               "ci_high"],
    "courts": ["base_city_code", "court", "state", "pd_closures", "completions", "pd_rate",
               "ci_low", "ci_high"],
    "hearing_locations": ["hearing_loc_code", "hearing_location", "hearing_city", "hearing_state",
                          "base_city_code", "court", "pd_closures", "completions", "pd_rate",
                          "ci_low", "ci_high"],
    "states": ["state", "pd_closures", "completions", "pd_rate", "ci_low", "ci_high"],
    "circuits": ["circuit", "pd_closures", "completions", "pd_rate", "ci_low", "ci_high"],
    "regions": ["region", "pd_closures", "completions", "pd_rate", "ci_low", "ci_high"],
}
NUMERIC = ("pd_closures", "completions", "pd_rate", "ci_low", "ci_high", "fiscal_year")


def _normalise(df: pd.DataFrame, columns: Sequence[str], name: str) -> pd.DataFrame:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ReleaseError(f"{name}.csv: missing column(s) {', '.join(missing)}")
    df = df.copy()
    for col in df.columns:
        if col in NUMERIC:
            df[col] = pd.to_numeric(df[col], errors="coerce")
        elif col == "partial":
            df[col] = df[col].astype(str).str.strip().str.lower().isin(["true", "1", "yes"])
        else:
            df[col] = pd.Series([None if (pd.isna(v) or str(v).strip() == "") else str(v)
                                 for v in df[col]], index=df.index, dtype=object)
    for col in ("pd_closures", "completions"):
        df[col] = df[col].fillna(0).astype("int64")
    return df


def load_tables(processed_dir: Path) -> dict[str, pd.DataFrame]:
    """Read the rates stage's CSVs of one run; text columns stay text ("9", "NA", codes)."""
    processed_dir = Path(processed_dir)
    if not processed_dir.is_dir():
        raise ReleaseError(f"{processed_dir}: processed folder not found; run the rates stage first")
    out = {}
    for name, columns in TABLES.items():
        path = processed_dir / f"{name}.csv"
        if not path.exists():
            raise ReleaseError(f"{path}: missing; run the rates stage first")
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
        out[name] = _normalise(df, columns, name)
    return out


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------

def format_pct(rate: float, digits: int = 1) -> str:
    if rate is None or not np.isfinite(rate):
        return "n/a"
    return f"{rate * 100:.{digits}f}%"


def format_count(n) -> str:
    return f"{int(n):,}"


def _total_rate(df: pd.DataFrame) -> float:
    comp = float(df["completions"].sum()) if len(df) else 0.0
    return float(df["pd_closures"].sum()) / comp if comp > 0 else float("nan")


def _has_data(df: pd.DataFrame | None) -> bool:
    return df is not None and len(df) > 0 and float(df["completions"].sum()) > 0


def _chars_per_line(width_in: float, size_pt: float, bold: bool = False) -> int:
    """Rough characters per line for DejaVu Sans at the given size (for wrapping)."""
    em = 0.60 if bold else 0.55
    return max(20, int(width_in * 72 / (size_pt * em)))


def _wrap(text: str, width_in: float, size_pt: float, bold: bool = False) -> list[str]:
    return textwrap.wrap(text, _chars_per_line(width_in, size_pt, bold)) or [""]


def _is_highlight(code, court) -> bool:
    code = (code or "").strip().upper()
    city = (court or "").split(",")[0].strip().upper()
    return code in HIGHLIGHT_CODES or city in HIGHLIGHT_CITIES


def nice_upper(values: Iterable[float], floor: float = 1.0) -> float:
    """A tidy axis maximum (in percent) above every value."""
    vals = [v for v in values if v is not None and np.isfinite(v)]
    top = max(vals + [floor])
    for step in (1, 2, 2.5, 5, 10, 20, 25, 50):
        if top * 1.05 <= step * 10:
            return math.ceil(top * 1.05 / step) * step
    return 100.0


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _circuit_label(value) -> str:
    s = (value or "").strip()
    if s.isdigit():
        return f"{_ordinal(int(s))} Circuit"
    if s.upper() in ("DC", "D.C."):
        return "D.C. Circuit"
    return s if s and s != "(unknown)" else "(unknown circuit)"


STATE_NAMES = {
    "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas", "CA": "California",
    "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware", "DC": "District of Columbia",
    "FL": "Florida", "GA": "Georgia", "HI": "Hawaii", "ID": "Idaho", "IL": "Illinois",
    "IN": "Indiana", "IA": "Iowa", "KS": "Kansas", "KY": "Kentucky", "LA": "Louisiana",
    "ME": "Maine", "MD": "Maryland", "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota",
    "MS": "Mississippi", "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
    "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
    "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma", "OR": "Oregon",
    "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina", "SD": "South Dakota",
    "TN": "Tennessee", "TX": "Texas", "UT": "Utah", "VT": "Vermont", "VA": "Virginia",
    "WA": "Washington", "WV": "West Virginia", "WI": "Wisconsin", "WY": "Wyoming",
    "PR": "Puerto Rico", "GU": "Guam", "MP": "Northern Mariana Islands",
    "VI": "U.S. Virgin Islands", "AS": "American Samoa",
}


def _state_label(code) -> str:
    code = (code or "").strip()
    if not code:
        return "(unknown state)"
    return STATE_NAMES.get(code.upper(), code)


def _court_labels(courts: pd.DataFrame) -> dict:
    """base_city_code -> court label; a label shared by several courts gets its code appended
    (the release has e.g. two courts in Miami, El Paso and Houston)."""
    names = {}
    for code, court in zip(courts["base_city_code"], courts["court"]):
        names[code] = court or f"(code {code})"
    counts = pd.Series(list(names.values())).value_counts()
    return {code: (f"{name} ({code})" if counts.get(name, 0) > 1 else name)
            for code, name in names.items()}


def _shorten(text: str, n: int = 30) -> str:
    text = (text or "").strip() or "(unnamed)"
    return text if len(text) <= n else text[: n - 1].rstrip() + "\u2026"


# --------------------------------------------------------------------------------------------
# Figure frame: title, subtitle, legend band, note, watermark
# --------------------------------------------------------------------------------------------

@dataclass
class _Frame:
    fig: Figure
    header_in: float
    footer_in: float


def figure_frame(ctx: FigureContext, title: str, subtitle: str, body_in: float, *,
           width: float = FIG_WIDTH, legend: list | None = None, legend_cols: int | None = None
           ) -> _Frame:
    """A figure with a fixed header (title, subtitle, optional legend) and footer (note).

    The axes are laid out by constrained layout inside the band between header and footer.
    """
    text_w = width - 2 * MARGIN
    title_lines = _wrap(title, text_w, TITLE_SIZE, bold=True)
    sub_lines = _wrap(subtitle, text_w, SUBTITLE_SIZE) if subtitle else []
    note_lines = _wrap(ctx.note(), text_w, NOTE_SIZE)
    title_h = len(title_lines) * TITLE_SIZE * 1.25 / 72
    sub_h = len(sub_lines) * SUBTITLE_SIZE * 1.3 / 72
    legend_h = 0.30 if legend else 0.0
    header_in = 0.16 + title_h + (0.06 + sub_h if sub_lines else 0) + legend_h + 0.10
    footer_in = 0.10 + len(note_lines) * NOTE_SIZE * 1.35 / 72 + 0.10
    height = header_in + body_in + footer_in

    fig = plt.figure(figsize=(width, height), layout="constrained")
    fig.get_layout_engine().set(
        rect=(MARGIN / width, footer_in / height, 1.0 - 2 * MARGIN / width, body_in / height),
        h_pad=0.04, w_pad=0.04,
    )
    x0 = MARGIN / width
    y = 1 - 0.16 / height
    fig.text(x0, y, "\n".join(title_lines), ha="left", va="top", fontsize=TITLE_SIZE,
             fontweight="bold", color=DARK, linespacing=1.15)
    y -= title_h / height
    if sub_lines:
        y -= 0.06 / height
        fig.text(x0, y, "\n".join(sub_lines), ha="left", va="top", fontsize=SUBTITLE_SIZE,
                 color="#555555", linespacing=1.2)
        y -= sub_h / height
    if legend:
        fig.legend(handles=legend, loc="upper left", bbox_to_anchor=(x0 - 0.005, y - 0.02 / height),
                   ncols=legend_cols or len(legend), fontsize=8.5, frameon=False,
                   handletextpad=0.5, columnspacing=1.6, borderaxespad=0.0, borderpad=0.0)
    fig.text(x0, 0.10 / height, "\n".join(note_lines), ha="left", va="bottom",
             fontsize=NOTE_SIZE, color="#555555", linespacing=1.25)
    if ctx.synthetic:
        _watermark(fig)
    return _Frame(fig, header_in, footer_in)


def _watermark(fig: Figure) -> None:
    """Big, diagonal, semi-transparent SYNTHETIC stamp across the whole figure."""
    w, h = fig.get_size_inches()
    angle = math.degrees(math.atan2(h, w))
    angle = max(20.0, min(angle, 60.0))
    diag = math.hypot(w, h)
    size = 0.62 * diag * 72 / (len(WATERMARK_TEXT) * 0.62)
    size = max(24.0, min(size, 64.0))
    t = fig.text(0.5, 0.5, WATERMARK_TEXT, rotation=angle, rotation_mode="anchor",
                 ha="center", va="center", fontsize=size, fontweight="bold",
                 color=VERMILLION, alpha=0.22, zorder=1000)
    t.set_gid("synthetic-watermark")
    t.set_in_layout(False)


def _no_data(ax, message: str = NO_DATA_TEXT) -> None:
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for s in ax.spines.values():
        s.set_visible(False)
    ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center",
            fontsize=15, color="#666666")


def no_data_figure(ctx: FigureContext, what: str, body_in: float = 3.0) -> Figure:
    fr = figure_frame(ctx, NO_DATA_TEXT, f"{what}, {ctx.window}.", body_in)
    ax = fr.fig.add_subplot()
    _no_data(ax)
    return fr.fig


def _legend_handles(min_completions: int, *, highlight=True, national=True,
                    overall: str = "National"):
    h = []
    if highlight:
        h.append(Line2D([], [], marker="o", ls="", color=VERMILLION,
                        label="Tucson and Seattle (TRAC's highlights)"))
        h.append(Line2D([], [], marker="o", ls="", color=BLUE, label="Other courts"))
    else:
        h.append(Line2D([], [], marker="o", ls="", color=BLUE, label="PD rate"))
    h.append(Line2D([], [], marker="o", ls="", color=GREY, mfc="white",
                    label=f"Fewer than {min_completions:,} completions"))
    h.append(Line2D([], [], color="#555555", lw=1.2, label="95% Wilson interval"))
    if national:
        h.append(Line2D([], [], color=DARK, lw=1.0, ls="--", label=f"{overall} rate"))
    return h


def _ranked_rows(df: pd.DataFrame, label_col: str, min_completions: int,
                 label_fn: Callable | None = None) -> pd.DataFrame:
    """Rows ordered for a ranked dot plot: reliable by rate, then small-n, then no completions."""
    d = df.copy()
    d["label"] = [label_fn(r) if label_fn else (r[label_col] or "(unknown)")
                  for _, r in d.iterrows()]
    d["group"] = np.where(d["completions"] >= min_completions, 0,
                          np.where(d["completions"] > 0, 1, 2))
    d["_rate"] = d["pd_rate"].fillna(-1.0)
    d = d.sort_values(["group", "_rate", "completions", "label"],
                      ascending=[True, False, False, True], kind="mergesort")
    return d.reset_index(drop=True)


def _dot_panel(ax, rows: pd.DataFrame, *, national_rate: float, xmax: float,
               min_completions: int, highlight: bool = False, n_header: bool = True,
               divider_text: bool = True, colour_fn: Callable | None = None,
               label_size: float | None = None, overall: str = "National") -> None:
    """Ranked dot plot: one row per entity, dot = rate, whisker = 95% CI, n at the right."""
    n_reliable = int((rows["group"] == 0).sum())
    gap = 1.2 if 0 < n_reliable < len(rows) else 0.0
    ys = np.array([-(i + (gap if g > 0 else 0.0)) for i, g in enumerate(rows["group"])])
    colours = []
    for _, r in rows.iterrows():
        if r["group"] > 0:
            colour = GREY
        elif colour_fn is not None:
            colour = colour_fn(r)
        elif highlight and _is_highlight(r.get("base_city_code"), r.get("court")):
            colour = VERMILLION
        else:
            colour = BLUE
        colours.append(colour)
    colours_arr = np.array(colours, dtype=object)
    rate = rows["pd_rate"].to_numpy(float) * 100
    lo = rows["ci_low"].to_numpy(float) * 100
    hi = rows["ci_high"].to_numpy(float) * 100
    group = rows["group"].to_numpy()
    has_ci = np.isfinite(lo) & np.isfinite(hi) & (group < 2)
    has_rate = np.isfinite(rate) & (group < 2)
    # one collection per kind of mark (fast to draw, even with many rows)
    ci_col = np.where(group == 0, colours_arr, "#BBBBBB")
    if has_ci.any():
        ax.hlines(ys[has_ci], lo[has_ci], hi[has_ci], colors=list(ci_col[has_ci]), lw=1.2,
                  zorder=2)
    solid = has_rate & (group == 0)
    if solid.any():
        ax.scatter(rate[solid], ys[solid], s=30, c=list(colours_arr[solid]), zorder=3,
                   linewidths=0, clip_on=False)
    hollow = has_rate & (group == 1)
    if hollow.any():
        ax.scatter(rate[hollow], ys[hollow], s=28, facecolors="white", edgecolors=GREY,
                   linewidths=1.1, zorder=3, clip_on=False)

    ax.set_ylim(ys.min() - 0.7, 0.7)
    ax.set_xlim(0, xmax)
    ax.set_yticks(ys, list(rows["label"]))
    ax.tick_params(axis="y", length=0, pad=7)  # clear of hollow markers drawn at 0%
    if label_size:
        ax.tick_params(axis="y", labelsize=label_size)
    ax.grid(axis="y", visible=False)
    for lab, colour, g in zip(ax.get_yticklabels(), colours, rows["group"]):
        lab.set_color(colour if g > 0 else (colour if colour != BLUE else "#222222"))
        if colour == VERMILLION:
            lab.set_fontweight("bold")
    # n labels: a right-hand axis whose tick labels are the completions
    n_trans = mtransforms.blended_transform_factory(ax.transAxes, ax.transData)
    for y, c, g in zip(ys, rows["completions"], rows["group"]):
        ax.text(1.01, y, "no completions" if g == 2 else f"n={format_count(c)}", transform=n_trans,
                ha="left", va="center", fontsize=7.5, color="#666666", clip_on=False)
    if n_header:
        ax.text(1.0, 1.0, " Completions", transform=ax.transAxes, ha="left", va="bottom",
                fontsize=7.5, color="#666666")
    if np.isfinite(national_rate):
        ax.axvline(national_rate * 100, color=DARK, lw=1.0, ls="--", zorder=1)
        right = national_rate * 100 > 0.6 * xmax  # keep the label clear of the n header
        ax.text(national_rate * 100, 1.0,
                f"{overall} {format_pct(national_rate)} " if right else f" {overall} {format_pct(national_rate)}",
                transform=ax.get_xaxis_transform(), ha="right" if right else "left",
                va="bottom", fontsize=8, color=DARK)
    if gap:
        y_div = -(n_reliable - 1) - (gap + 1) / 2
        ax.axhline(y_div, color="#BBBBBB", lw=0.8)
        if divider_text:
            ax.text(0.995, y_div - 0.08, f"Below: fewer than {min_completions:,} completions "
                    "(rates unreliable)", transform=ax.get_yaxis_transform(), ha="right",
                    va="top", fontsize=7.5, color="#777777",
                    bbox=dict(facecolor="white", edgecolor="none", pad=0.5))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}%"))


def _national_rate(national: pd.DataFrame | None, fallback: pd.DataFrame | None) -> float:
    if national is not None and len(national) and float(national["completions"].sum()) > 0:
        return _total_rate(national)
    if fallback is not None and len(fallback):
        return _total_rate(fallback)
    return float("nan")


# --------------------------------------------------------------------------------------------
# 1. Courts ranked
# --------------------------------------------------------------------------------------------

def courts_ranked(courts: pd.DataFrame, ctx: FigureContext, *,
                  national: pd.DataFrame | None = None) -> Figure:
    """Courts ranked by PD rate with 95% CIs and n; small courts set apart; TUC/SEA accented."""
    with plt.style.context(STYLE_PATH):
        if not _has_data(courts):
            return no_data_figure(ctx, "PD closure rate by immigration court")
        nat = _national_rate(national, courts)
        labels = _court_labels(courts)
        rows = _ranked_rows(courts, "court", ctx.min_completions,
                            label_fn=lambda r: labels[r["base_city_code"]])
        reliable = rows[rows["group"] == 0]
        total_pd = int(courts["pd_closures"].sum())
        total_comp = int(courts["completions"].sum())
        if total_pd == 0:
            title = (f"ICE closed none of the {format_count(total_comp)} completed {ctx.units} by "
                     "prosecutorial discretion in this window")
        elif len(reliable):
            top = reliable.iloc[0]
            title = (f"Prosecutorial discretion closed {format_pct(nat)} of completed {ctx.units} "
                     f"{ctx.overall_phrase}; the highest court rate was {format_pct(top['pd_rate'])} in "
                     f"{top['label']}")
        else:
            title = (f"Prosecutorial discretion closed {format_pct(nat)} of completed {ctx.units} "
                     f"{ctx.overall_phrase}; no court reached {ctx.min_completions:,} completions")
        subtitle = (f"Share of completed {ctx.units} closed by ICE prosecutorial discretion (PD), "
                    f"by immigration court, {ctx.window}. Courts with at least "
                    f"{ctx.min_completions:,} completions are ranked first.")
        body = max(2.0, ROW_HEIGHT * (len(rows) + (1.2 if 0 < len(reliable) < len(rows) else 0))
                   + 0.9)
        fr = figure_frame(ctx, title, subtitle, body,
                    legend=_legend_handles(ctx.min_completions, overall=ctx.overall))
        ax = fr.fig.add_subplot()
        xmax = nice_upper([v * 100 for v in rows["ci_high"]] + [nat * 100 if np.isfinite(nat) else 0])
        _dot_panel(ax, rows, national_rate=nat, xmax=xmax, min_completions=ctx.min_completions,
                   highlight=True, overall=ctx.overall)
        ax.set_xlabel("PD closures as a share of completions (%)")
        ax.xaxis.set_label_position("bottom")
        return fr.fig


# --------------------------------------------------------------------------------------------
# 2. Monthly trend
# --------------------------------------------------------------------------------------------

def _month_pos(d: pd.Timestamp, first: pd.Timestamp) -> float:
    """x position of a date on the month axis: month i spans [i, i + 1)."""
    i = (d.year - first.year) * 12 + (d.month - first.month)
    return i + (d.day - 1) / d.days_in_month


def _month_ticks(dates: Sequence[pd.Timestamp]) -> tuple[list[float], list[str]]:
    n = len(dates)
    step = 1 if n <= 24 else 3 if n <= 48 else 6 if n <= 120 else 12
    pos, labels = [], []
    for i, d in enumerate(dates):
        if (d.month - 1) % step:
            continue
        first_label = not labels
        year = f"\n{d.year}" if (first_label or d.month == 1) else ""
        pos.append(i + 0.5)
        labels.append(f"{d:%b}{year}")
    return pos, labels


def monthly_trend(months: pd.DataFrame, ctx: FigureContext, *,
                  national: pd.DataFrame | None = None) -> Figure:
    """Monthly PD closures (bars) and PD rate (line with CI band), FY lines, policy dates."""
    with plt.style.context(STYLE_PATH):
        if not _has_data(months):
            return no_data_figure(ctx, "Monthly PD closures and PD closure rate")
        m = months.copy()
        m["date"] = pd.to_datetime(m["month"], format="%Y-%m")
        m = m.sort_values("date").reset_index(drop=True)
        first = m["date"].iloc[0]
        last_end = m["date"].iloc[-1] + pd.offsets.MonthEnd(0)
        x = np.array([_month_pos(d, first) + 0.5 for d in m["date"]])
        nat = _national_rate(national, m)
        with_data = m[m["completions"] > 0]

        if int(m["pd_closures"].sum()) == 0:
            title = (f"No PD closures in any month of the window "
                     f"({format_count(m['completions'].sum())} completions)")
        elif len(with_data) == 1:
            r = with_data.iloc[0]
            title = f"The PD closure rate was {format_pct(r['pd_rate'])} in {r['date']:%B %Y}"
        else:
            lo = with_data.loc[with_data["pd_rate"].idxmin()]
            hi = with_data.loc[with_data["pd_rate"].idxmax()]
            title = (f"The monthly PD closure rate ranged from {format_pct(lo['pd_rate'])} "
                     f"({lo['date']:%b %Y}) to {format_pct(hi['pd_rate'])} ({hi['date']:%b %Y})")

        pol = ctx.policy_dates
        pol_in = pd.DataFrame()
        if pol is not None and len(pol):
            pol_in = pol[(pol["date"] >= first) & (pol["date"] <= last_end)]
        pol_in = pol_in.sort_values("date").reset_index(drop=True) if len(pol_in) else pol_in
        subtitle = (f"PD closures per month (top) and PD closures as a share of completions "
                    f"(bottom), {ctx.window}. Grey lines: fiscal years (Oct\u2013Sep).")
        if len(pol_in):
            subtitle += " Numbered purple lines: policy dates \u2014 " + "; ".join(
                f"{j}: {r['date']:%d %b %Y}, {r['label']}" for j, (_, r) in
                enumerate(pol_in.iterrows(), 1)) + "."
        elif pol is not None and len(pol):
            subtitle += " No reference policy date falls inside this window."

        fr = figure_frame(ctx, title, subtitle, 5.6)
        ax1, ax2 = fr.fig.subplots(2, 1, sharex=True, height_ratios=[1, 1.15])
        ax1.bar(x, m["pd_closures"], width=0.78, color=BLUE, zorder=2)
        ax1.set_ylabel("PD closures per month")
        ax1.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax1.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
        ax1.grid(axis="x", visible=False)
        ax1.set_ylim(0, max(1, m["pd_closures"].max()) * 1.12)
        ax1.tick_params(axis="x", length=0)

        ok = (m["completions"] > 0).to_numpy()
        r = m[ok]
        ax2.fill_between(x[ok], r["ci_low"] * 100, r["ci_high"] * 100, color=LIGHT_BLUE,
                         alpha=0.6, lw=0, label="95% Wilson interval", zorder=1)
        ax2.plot(x[ok], r["pd_rate"] * 100, "-o", color=BLUE, ms=3.5, lw=1.6,
                 label="PD rate", zorder=3)
        if np.isfinite(nat):
            ax2.axhline(nat * 100, color=DARK, lw=1.0, ls="--", zorder=2,
                        label=f"Rate over the window: {format_pct(nat)}")
        ax2.set_ylabel("PD rate (% of completions)")
        ax2.grid(axis="x", visible=False)
        ytop = nice_upper(list(r["ci_high"] * 100) + [nat * 100 if np.isfinite(nat) else 0])
        show_n = len(m) <= 36
        ax2.set_ylim(0, ytop * (1.3 if show_n else 1.0))
        ax2.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}%"))
        if show_n:
            for xi, c in zip(x, m["completions"]):
                ax2.text(xi, 0.975, format_count(c), transform=ax2.get_xaxis_transform(),
                         rotation=90, ha="center", va="top", fontsize=6.5, color="#666666")
            n_note = "n = completions per month (grey numbers)"
        else:
            n_note = (f"n = {format_count(m['completions'].min())}\u2013{format_count(m['completions'].max())} "
                      "completions per month")
        ax2.text(0.0, 1.01, n_note, transform=ax2.transAxes, ha="left", va="bottom",
                 fontsize=7.5, color="#666666")
        ax2.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=3, fontsize=7.5,
                   borderaxespad=0.1)

        # fiscal-year boundaries and labels
        ax2.set_xlim(-0.2, len(m) + 0.2)
        bounds = [0.0] + [_month_pos(d, first) for d in _fy_starts(first, last_end)]
        for i, b in enumerate(bounds):
            month_at = first + pd.DateOffset(months=int(round(b)))
            fy = month_at.year + 1 if month_at.month >= 10 else month_at.year
            if i > 0:
                for ax in (ax1, ax2):
                    ax.axvline(b, color="#BBBBBB", lw=1.0, zorder=0)
            nxt = bounds[i + 1] if i + 1 < len(bounds) else len(m)
            if nxt - b >= 1.5 or len(bounds) == 1:
                ax1.text(b + 0.15, 1.01, f"FY{fy}", transform=ax1.get_xaxis_transform(),
                         ha="left", va="bottom", fontsize=8, color="#666666")
        # policy dates: numbered tags (the key is in the subtitle), staggered when close
        prev_x, lowered = None, False
        for j, (_, pdate) in enumerate(pol_in.iterrows(), 1):
            xp = _month_pos(pdate["date"], first)
            for ax in (ax1, ax2):
                ax.axvline(xp, color=PURPLE, lw=1.3, ls=":", zorder=4)
            close = prev_x is not None and (xp - prev_x) < 0.035 * (len(m) + 0.4)
            lowered = close and not lowered
            ax1.text(xp, 0.86 if lowered else 0.97, str(j), transform=ax1.get_xaxis_transform(),
                     ha="center", va="top", fontsize=7.5, fontweight="bold", color="#7A3D66",
                     zorder=6, bbox=dict(boxstyle="circle,pad=0.25", facecolor="white",
                                         edgecolor=PURPLE, lw=1.0))
            prev_x = xp
        pos, labels = _month_ticks(list(m["date"]))
        ax2.set_xticks(pos, labels)
        ax2.tick_params(axis="x", length=0)
        ax2.set_xlabel("Month of completion")
        return fr.fig


def _fy_starts(first: pd.Timestamp, last: pd.Timestamp) -> list[pd.Timestamp]:
    out = []
    for year in range(first.year, last.year + 1):
        d = pd.Timestamp(year=year, month=10, day=1)
        if first < d <= last:
            out.append(d)
    return out


# --------------------------------------------------------------------------------------------
# 3. Fiscal years (TRAC report 339, Table 1)
# --------------------------------------------------------------------------------------------

def _fy_label(r) -> str:
    label = f"FY{int(r['fiscal_year'])}"
    if not r["partial"]:
        return label
    try:
        a = pd.Timestamp(r["period_start"])
        b = pd.Timestamp(r["period_end"])
        return f"{label} (partial)\n{a:%b %Y}\u2013{b:%b %Y}"
    except (TypeError, ValueError):
        return f"{label} (partial)"


def fiscal_years(fy: pd.DataFrame, ctx: FigureContext) -> Figure:
    """PD closures and PD rate per fiscal year; partial years marked."""
    with plt.style.context(STYLE_PATH):
        if not _has_data(fy):
            return no_data_figure(ctx, "PD closures and PD closure rate by fiscal year")
        d = fy.sort_values("fiscal_year").reset_index(drop=True)
        d["fy"] = d["fiscal_year"].astype(int)
        if len(d) <= 3:
            parts = [f"{format_count(r['pd_closures'])} in FY{r['fy']} "
                     f"({'partial year, ' if r['partial'] else ''}{format_pct(r['pd_rate'])})"
                     for _, r in d.iterrows()]
            title = "ICE PD closures: " + (" and ".join([", ".join(parts[:-1]), parts[-1]])
                                           if len(parts) > 1 else parts[0])
        else:
            v = d[d["completions"] > 0]
            lo = v.loc[v["pd_rate"].idxmin()]
            hi = v.loc[v["pd_rate"].idxmax()]
            title = (f"The PD closure rate ranged from {format_pct(lo['pd_rate'])} (FY{int(lo['fy'])}) "
                     f"to {format_pct(hi['pd_rate'])} (FY{int(hi['fy'])})")
        subtitle = (f"PD closures and their share of completions by federal fiscal year "
                    f"(October\u2013September), {ctx.window}; the layout of TRAC report 339, "
                    "Table 1.")
        if d["partial"].any():
            subtitle += " Hatched bars: only part of the fiscal year is in the window."
        fr = figure_frame(ctx, title, subtitle, 3.9)
        ax1, ax2 = fr.fig.subplots(1, 2)
        x = np.arange(len(d))
        many = len(d) > 12   # rotate labels
        several = len(d) > 6  # smaller labels, n without "n="
        labels = [_fy_label(r) for _, r in d.iterrows()]
        hatches = ["////" if p else None for p in d["partial"]]
        fc1 = [SKY if p else BLUE for p in d["partial"]]
        bars = ax1.bar(x, d["pd_closures"], color=fc1, edgecolor=BLUE, lw=0.8, width=0.7)
        for b, h in zip(bars, hatches):
            if h:
                b.set_hatch(h)
        ax1.set_ylim(0, max(1, d["pd_closures"].max()) * 1.15)
        for xi, v in zip(x, d["pd_closures"]):
            ax1.text(xi, v, f"{format_count(v)}", ha="center", va="bottom",
                     fontsize=7 if (many or several) else 8.5,
                     rotation=90 if many else 0, color=DARK)
        ax1.set_title("PD closures (count)")
        ax1.set_ylabel("PD closures")
        ax1.yaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax1.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))

        rate = d["pd_rate"].fillna(0) * 100
        bars = ax2.bar(x, rate, color=fc1, edgecolor=BLUE, lw=0.8, width=0.7)
        for b, h in zip(bars, hatches):
            if h:
                b.set_hatch(h)
        lo = (d["pd_rate"] - d["ci_low"]).clip(lower=0).fillna(0) * 100
        hi = (d["ci_high"] - d["pd_rate"]).clip(lower=0).fillna(0) * 100
        ok = d["completions"] > 0
        ax2.errorbar(x[ok], rate[ok], yerr=[lo[ok], hi[ok]], fmt="none", ecolor=DARK, lw=1.0,
                     capsize=3)
        top = nice_upper(list(d["ci_high"] * 100))
        ax2.set_ylim(0, top * 1.12)
        for xi, r, h, c in zip(x, rate, d["ci_high"].fillna(0) * 100, d["completions"]):
            txt = f"{r:.1f}%" if c > 0 else "n/a"
            ax2.text(xi, max(r, h) + top * 0.015, txt, ha="center", va="bottom",
                     fontsize=7 if (many or several) else 8.5, rotation=90 if many else 0,
                     color=DARK)
        ax2.set_title("PD rate (% of completions)")
        ax2.set_ylabel("PD rate (%)")
        ax2.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}%"))
        rate_labels = [f"{lab}\n{'' if several else 'n='}{format_count(c)}"
                       for lab, c in zip(labels, d["completions"])]
        if several:
            ax2.set_xlabel("Fiscal year; below it: completions (n)")
        size = 7 if (many or several) else 8.5
        for ax, labs in ((ax1, labels), (ax2, rate_labels)):
            ax.set_xticks(x, labs, fontsize=size, rotation=90 if many else 0)
            ax.grid(axis="x", visible=False)
            ax.tick_params(axis="x", length=0)
            ax.set_xlim(-0.6, len(d) - 0.4)
        return fr.fig


# --------------------------------------------------------------------------------------------
# 4. States and circuits
# --------------------------------------------------------------------------------------------

def states_circuits(states: pd.DataFrame, circuits: pd.DataFrame, ctx: FigureContext, *,
                    national: pd.DataFrame | None = None) -> Figure:
    """PD rate by state of the court and by federal circuit (two ranked panels)."""
    with plt.style.context(STYLE_PATH):
        has_s, has_c = _has_data(states), _has_data(circuits)
        if not (has_s or has_c):
            return no_data_figure(ctx, "PD closure rate by state and by federal circuit")
        nat = _national_rate(national, states if has_s else circuits)
        srows = (_ranked_rows(states, "state", ctx.min_completions,
                              label_fn=lambda r: _state_label(r["state"])) if has_s else None)
        crows = (_ranked_rows(circuits, "circuit", ctx.min_completions,
                              label_fn=lambda r: _circuit_label(r["circuit"])) if has_c else None)
        rel = srows[srows["group"] == 0] if has_s else pd.DataFrame()
        if has_s and len(rel) >= 2 and int(states["pd_closures"].sum()) > 0:
            lo = rel.loc[rel["pd_rate"].idxmin()]
            hi = rel.loc[rel["pd_rate"].idxmax()]
            title = (f"Across states, PD closure rates ranged from {format_pct(lo['pd_rate'])} "
                     f"({lo['label']}) to {format_pct(hi['pd_rate'])} ({hi['label']})")
        elif int((states if has_s else circuits)["pd_closures"].sum()) == 0:
            title = "No PD closures in any state or circuit in this window"
        else:
            title = f"PD closures were {format_pct(nat)} of completed {ctx.units} {ctx.overall_phrase}"
        subtitle = (f"Share of completed {ctx.units} closed by PD, by state of the immigration "
                    f"court and by federal judicial circuit, {ctx.window}.")

        def span(rows):
            if rows is None:
                return 4.0
            n_rel = int((rows["group"] == 0).sum())
            return len(rows) + (1.2 if 0 < n_rel < len(rows) else 0.0)

        ns, nc = span(srows), span(crows)
        deco = 0.85  # inches of panel title, n header and x axis around each panel
        tall_in = ROW_HEIGHT * (max(ns, nc) + 1.4) + deco
        short_in = ROW_HEIGHT * (min(ns, nc) + 1.4) + deco
        fr = figure_frame(ctx, title, subtitle, max(2.8, tall_in),
                    legend=_legend_handles(ctx.min_completions, highlight=False,
                                           overall=ctx.overall))
        fig = fr.fig
        fig.get_layout_engine().set(wspace=0.04)
        if tall_in - short_in < 0.3:
            ax1, ax2 = fig.subplots(1, 2)
        else:
            gs = fig.add_gridspec(2, 2, height_ratios=[short_in, tall_in - short_in])
            if ns >= nc:
                ax1, ax2 = fig.add_subplot(gs[:, 0]), fig.add_subplot(gs[0, 1])
            else:
                ax1, ax2 = fig.add_subplot(gs[0, 0]), fig.add_subplot(gs[:, 1])
        allhi = []
        for rows in (srows, crows):
            if rows is not None:
                allhi += list(rows["ci_high"] * 100)
        xmax = nice_upper(allhi + [nat * 100 if np.isfinite(nat) else 0])
        for ax, rows, name in ((ax1, srows, "By state of the court"),
                               (ax2, crows, "By federal circuit")):
            ax.set_title(name, pad=18)
            if rows is None:
                _no_data(ax)
                continue
            _dot_panel(ax, rows, national_rate=nat, xmax=xmax, overall=ctx.overall,
                       min_completions=ctx.min_completions, divider_text=False)
            ax.set_xlabel("PD rate (% of completions)")
        return fig


# --------------------------------------------------------------------------------------------
# 5. Hearing locations of the largest courts
# --------------------------------------------------------------------------------------------

MAX_LOCATIONS_PER_PANEL = 10


def hearing_locations(locations: pd.DataFrame, courts: pd.DataFrame, ctx: FigureContext, *,
                      national: pd.DataFrame | None = None, n_courts: int = 6) -> Figure:
    """Small multiples: the hearing locations of the largest courts by completions."""
    with plt.style.context(STYLE_PATH):
        if not _has_data(locations) or not _has_data(courts):
            return no_data_figure(ctx, "PD closure rate by hearing location, largest courts")
        nat = _national_rate(national, courts)
        labels = _court_labels(courts)
        top = (courts[courts["completions"] > 0]
               .sort_values(["completions", "base_city_code"], ascending=[False, True],
                            kind="mergesort")
               .head(n_courts))
        panels = []
        for _, c in top.iterrows():
            locs = locations[(locations["base_city_code"] == c["base_city_code"])
                             & (locations["completions"] > 0)]
            rows = _ranked_rows(locs, "hearing_location", ctx.min_completions,
                                label_fn=lambda r: _shorten(r["hearing_location"]
                                                            or r["hearing_loc_code"], 34))
            hidden = rows.iloc[MAX_LOCATIONS_PER_PANEL:]
            rows = rows.iloc[:MAX_LOCATIONS_PER_PANEL]
            panels.append((c, rows, hidden))
        k = len(panels)
        rel = pd.concat([p[1][p[1]["group"] == 0] for p in panels]) if panels else pd.DataFrame()
        word = {1: "the largest court", 2: "the two largest courts", 3: "the three largest courts",
                4: "the four largest courts", 5: "the five largest courts",
                6: "the six largest courts"}.get(k, f"the {k} largest courts")
        if len(rel) >= 2 and float(rel["pd_rate"].max()) > 0:
            title = (f"Within {word}, hearing-location PD rates ranged from "
                     f"{format_pct(rel['pd_rate'].min())} to {format_pct(rel['pd_rate'].max())}")
        elif int(locations["pd_closures"].sum()) == 0:
            title = f"No PD closures at any hearing location of {word}"
        else:
            title = f"PD closure rates at the hearing locations of {word}"
        which = "the court" if k == 1 else f"the {k} courts"
        subtitle = (f"Share of completed {ctx.units} closed by PD at each hearing location of "
                    f"{which} with the most completions, {ctx.window}; at most "
                    f"{MAX_LOCATIONS_PER_PANEL} locations per court, largest rates first.")
        ncols = 2 if k > 1 else 1
        nrows = math.ceil(k / ncols)
        per_panel = max(len(p[1]) + (1.2 if 0 < (p[1]["group"] == 0).sum() < len(p[1]) else 0)
                        + (1.0 if len(p[2]) else 0.0) for p in panels)
        panel_h = ROW_HEIGHT * (per_panel + 0.6) + 0.75
        width = 11.0 if ncols == 2 else FIG_WIDTH
        fr = figure_frame(ctx, title, subtitle, panel_h * nrows + 0.3, width=width,
                    legend=_legend_handles(ctx.min_completions, highlight=False,
                                           overall=ctx.overall))
        fr.fig.get_layout_engine().set(wspace=0.05)  # n labels of the left column need room
        axes = np.atleast_1d(fr.fig.subplots(nrows, ncols, sharex=True, squeeze=False)).ravel()
        allhi = [v * 100 for p in panels for v in p[1]["ci_high"]]
        xmax = nice_upper(allhi + [nat * 100 if np.isfinite(nat) else 0])
        for ax, (c, rows, hidden) in zip(axes, panels):
            name = labels[c["base_city_code"]]
            ax.set_title(f"{name}: {format_pct(c['pd_rate'])} (n={format_count(c['completions'])})", pad=14,
                         color=VERMILLION if _is_highlight(c["base_city_code"], c["court"])
                         else DARK)
            if len(rows) == 0:
                _no_data(ax, "No hearing-location detail")
                continue
            _dot_panel(ax, rows, national_rate=nat, xmax=xmax, overall=ctx.overall,
                       min_completions=ctx.min_completions, n_header=False, divider_text=False,
                       label_size=7.5)
            ax.set_ylim(-(per_panel - 0.3), 0.7)
            if len(hidden):
                y_last = -(per_panel - 1)
                k_h = len(hidden)
                ax.text(0.01, y_last, f"+ {k_h} smaller location{'s' if k_h > 1 else ''} not "
                        f"shown (n={format_count(hidden['completions'].sum())})",
                        transform=ax.get_yaxis_transform(), ha="left", va="center",
                        fontsize=7, color="#666666")
            ax.xaxis.set_tick_params(labelbottom=True)
        for ax in axes[k:]:
            ax.set_visible(False)
        for ax in axes[max(0, k - ncols):k]:
            ax.set_xlabel("PD rate (% of completions)")
        return fr.fig


# --------------------------------------------------------------------------------------------
# 6. Court map (needs US geometry shipped by the optional plotly-geo + pyshp packages)
# --------------------------------------------------------------------------------------------

# Approximate coordinates (city centre, degrees) of places with an immigration court, keyed by
# "CITY, ST" as the court label reads; good enough to place a bubble on a national map.
COURT_COORDS = {
    "ADELANTO, CA": (34.58, -117.41), "ANNANDALE, VA": (38.83, -77.20),
    "ARLINGTON, VA": (38.88, -77.10), "ATLANTA, GA": (33.75, -84.39),
    "AURORA, CO": (39.73, -104.83), "BALTIMORE, MD": (39.29, -76.61),
    "BATAVIA, NY": (43.00, -78.19), "BLOOMINGTON, MN": (44.84, -93.30),
    "BOSTON, MA": (42.36, -71.06), "BUFFALO, NY": (42.89, -78.88),
    "CHARLOTTE, NC": (35.23, -80.84), "CHELMSFORD, MA": (42.60, -71.37),
    "CHICAGO, IL": (41.88, -87.63), "CLEVELAND, OH": (41.50, -81.69),
    "COLUMBUS, OH": (39.96, -83.00), "CONCORD, CA": (37.98, -122.03),
    "CONROE, TX": (30.31, -95.46), "DALLAS, TX": (32.78, -96.80),
    "DENVER, CO": (39.74, -104.99), "DETROIT, MI": (42.33, -83.05),
    "EL PASO, TX": (31.76, -106.49), "ELIZABETH, NJ": (40.66, -74.21),
    "ELOY, AZ": (32.76, -111.55), "FISHKILL, NY": (41.54, -73.90),
    "FLORENCE, AZ": (33.03, -111.39), "FORT WORTH, TX": (32.76, -97.33),
    "GUAYNABO, PR": (18.36, -66.11), "SAN JUAN, PR": (18.47, -66.11),
    "HARLINGEN, TX": (26.19, -97.70), "HARTFORD, CT": (41.76, -72.69),
    "HONOLULU, HI": (21.31, -157.86), "HOUSTON, TX": (29.76, -95.37),
    "HYATTSVILLE, MD": (38.96, -76.95), "IMPERIAL, CA": (32.85, -115.57),
    "INDIANAPOLIS, IN": (39.77, -86.16), "JENA, LA": (31.68, -92.13),
    "KANSAS CITY, MO": (39.10, -94.58), "LANCASTER, CA": (34.70, -118.14),
    "LAS VEGAS, NV": (36.17, -115.14), "LOS ANGELES, CA": (34.05, -118.24),
    "LOS FRESNOS, TX": (26.07, -97.48), "LOUISVILLE, KY": (38.25, -85.76),
    "LUMPKIN, GA": (32.05, -84.80), "MEMPHIS, TN": (35.15, -90.05),
    "MIAMI, FL": (25.76, -80.19), "NAPANOCH, NY": (41.74, -74.37),
    "NASHVILLE, TN": (36.16, -86.78), "NEW ORLEANS, LA": (29.95, -90.07),
    "NEW YORK, NY": (40.71, -74.01), "NEWARK, NJ": (40.74, -74.17),
    "OAKDALE, LA": (30.82, -92.66), "OMAHA, NE": (41.26, -95.94),
    "ORLANDO, FL": (28.54, -81.38), "OTAY MESA, CA": (32.57, -116.99),
    "PEARSALL, TX": (28.89, -99.10), "PHILADELPHIA, PA": (39.95, -75.17),
    "PHOENIX, AZ": (33.45, -112.07), "PORTLAND, OR": (45.52, -122.68),
    "SACRAMENTO, CA": (38.58, -121.49), "SAIPAN, MP": (15.18, 145.75),
    "SALT LAKE CITY, UT": (40.76, -111.89), "SAN ANTONIO, TX": (29.42, -98.49),
    "SAN DIEGO, CA": (32.72, -117.16), "SAN FRANCISCO, CA": (37.77, -122.42),
    "SEATTLE, WA": (47.61, -122.33), "ST LOUIS, MO": (38.63, -90.20),
    "SAINT LOUIS, MO": (38.63, -90.20), "TACOMA, WA": (47.25, -122.44),
    "TUCSON, AZ": (32.22, -110.97), "WEST VALLEY CITY, UT": (40.69, -112.00),
    "YORK, PA": (39.96, -76.73), "VAN NUYS, CA": (34.19, -118.45),
    "HAGATNA, GU": (13.47, 144.75), "RICHMOND, VA": (37.54, -77.44),
    "WEST VALLEY, UT": (40.69, -112.00), "FORT SNELLING, MN": (44.89, -93.18),
    "LAREDO, TX": (27.51, -99.51), "STERLING, VA": (39.01, -77.43),
    "CHAPARRAL, NM": (32.04, -106.41), "DILLEY, TX": (28.67, -99.17),
    "ST PAUL, MN": (44.95, -93.09), "SAINT PAUL, MN": (44.95, -93.09),
    "KROME, FL": (25.75, -80.49), "SAN JUAN, PUERTO RICO": (18.47, -66.11),
}


def _court_key(court) -> str:
    s = (court or "").upper().replace(".", "").strip()
    s = " ".join(s.split())
    return s.replace(" ,", ",")


def _albers(lon, lat, lon0=-96.0, lat0=37.5, p1=29.5, p2=45.5):
    lon, lat = np.radians(np.asarray(lon, float)), np.radians(np.asarray(lat, float))
    lon0, lat0, p1, p2 = map(math.radians, (lon0, lat0, p1, p2))
    n = (math.sin(p1) + math.sin(p2)) / 2
    c = math.cos(p1) ** 2 + 2 * n * math.sin(p1)
    rho0 = math.sqrt(c - 2 * n * math.sin(lat0)) / n
    dlon = (lon - lon0 + np.pi) % (2 * np.pi) - np.pi
    theta = n * dlon
    rho = np.sqrt(c - 2 * n * np.sin(lat)) / n
    return rho * np.sin(theta), rho0 - rho * np.cos(theta)


# Map panels: name -> (state codes, projection parameters)
_MAP_AREAS = {
    "CONUS": (None, dict(lon0=-96.0, lat0=37.5, p1=29.5, p2=45.5)),
    "AK": (("AK",), dict(lon0=-152.0, lat0=50.0, p1=55.0, p2=65.0)),
    "HI": (("HI",), dict(lon0=-157.0, lat0=13.0, p1=8.0, p2=18.0)),
    "PR": (("PR",), dict(lon0=-66.4, lat0=18.0, p1=17.0, p2=19.0)),
    "MP": (("MP", "GU"), dict(lon0=145.0, lat0=15.0, p1=13.0, p2=17.0)),
}
_NON_CONUS = {"AK", "HI", "PR", "MP", "GU", "VI", "AS"}


@lru_cache(maxsize=1)
def _state_polygons() -> dict[str, tuple]:
    """Projected, simplified outlines per map area: area -> tuple of (N,2) arrays."""
    import shapefile

    path = shapefile_path()
    reader = shapefile.Reader(str(path))
    fields = [f[0] if isinstance(f, (list, tuple)) else f.name for f in reader.fields[1:]]
    i_st = fields.index("STUSPS")
    out: dict[str, list] = {k: [] for k in _MAP_AREAS}
    for rec, shp in zip(reader.records(), reader.shapes()):
        st = rec[i_st]
        area = next((k for k, (codes, _) in _MAP_AREAS.items() if codes and st in codes),
                    None if st in _NON_CONUS else "CONUS")
        if area is None:
            continue
        proj = _MAP_AREAS[area][1]
        pts = np.asarray(shp.points, float)
        parts = list(shp.parts) + [len(pts)]
        for a, b in zip(parts[:-1], parts[1:]):
            ring = pts[a:b]
            x, y = _albers(ring[:, 0], ring[:, 1], **proj)
            xy = np.column_stack([x, y])
            span = np.ptp(xy, axis=0).max()
            tol = 0.0012 if area == "CONUS" else 0.0006
            if span < tol * 4:
                continue
            q = np.round(xy / tol)
            keep = np.ones(len(q), bool)
            keep[1:] = np.any(q[1:] != q[:-1], axis=1)
            keep[-1] = True
            xy = xy[keep]
            if len(xy) >= 4:
                out[area].append(xy)
    return {k: tuple(v) for k, v in out.items()}


def court_map(courts: pd.DataFrame, ctx: FigureContext, *,
              national: pd.DataFrame | None = None) -> Figure:
    """Bubble map: one bubble per court, area ~ completions, colour = PD rate."""
    from matplotlib.collections import PolyCollection

    with plt.style.context(STYLE_PATH):
        if not map_available():
            raise RuntimeError("court_map needs the packages plotly-geo and pyshp (US geometry)")
        if not _has_data(courts):
            return no_data_figure(ctx, "Map of PD closure rates by immigration court")
        nat = _national_rate(national, courts)
        d = courts[courts["completions"] > 0].copy()
        d["key"] = [_court_key(c) for c in d["court"]]
        d["lat"] = [COURT_COORDS.get(k, (np.nan, np.nan))[0] for k in d["key"]]
        d["lon"] = [COURT_COORDS.get(k, (np.nan, np.nan))[1] for k in d["key"]]
        unplaced = d[d["lat"].isna()]
        d = d[d["lat"].notna()].copy()
        d["area"] = [k.rsplit(", ", 1)[-1] if k.rsplit(", ", 1)[-1] in _NON_CONUS else "CONUS"
                     for k in d["key"]]
        d["area"] = d["area"].replace({"GU": "MP"})
        d = d.sort_values("completions", ascending=False, kind="mergesort")
        rel = d[d["completions"] >= ctx.min_completions]

        if len(rel) and float(rel["pd_rate"].max()) > 0:
            hi = rel.loc[rel["pd_rate"].idxmax()]
            title = (f"PD closure rates were highest in {_court_labels(courts)[hi['base_city_code']]} "
                     f"({format_pct(hi['pd_rate'])}); {ctx.overall_phrase} {format_pct(nat)}")
        elif int(courts["pd_closures"].sum()) == 0:
            title = f"No court closed any {ctx.unit} by prosecutorial discretion in this window"
        else:
            title = f"PD closures were {format_pct(nat)} of completions {ctx.overall_phrase}"
        subtitle = (f"Immigration courts, {ctx.window}: bubble area = completions, colour = "
                    f"share closed by PD. Hollow bubbles: fewer than {ctx.min_completions:,} "
                    "completions (rate not coloured).")
        if len(unplaced):
            subtitle += (f" Not mapped (no coordinates): {len(unplaced)} court(s), "
                         f"n={format_count(unplaced['completions'].sum())}.")
        fr = figure_frame(ctx, title, subtitle, 6.2)
        fig = fr.fig
        ax = fig.add_subplot()
        ax.set_aspect("equal")
        ax.set_axis_off()
        polys = _state_polygons()
        ax.add_collection(PolyCollection(list(polys["CONUS"]), facecolor="#EFEFEF",
                                         edgecolor="white", lw=0.6, zorder=0))
        ax.set_xlim(-0.40, 0.40)
        ax.set_ylim(-0.26, 0.26)
        vmax = nice_upper(list(rel["pd_rate"] * 100) if len(rel) else [1.0]) / 100
        cmap = plt.get_cmap("cividis_r")
        norm = matplotlib.colors.Normalize(vmin=0, vmax=vmax)
        max_n = float(d["completions"].max()) if len(d) else 1.0

        def size(n):
            return 900.0 * np.asarray(n, float) / max_n + 6.0

        areas = {"CONUS": ax}
        inset_pos = {"AK": [0.0, 0.0, 0.20, 0.24], "HI": [0.21, 0.0, 0.13, 0.13],
                     "PR": [0.60, 0.0, 0.10, 0.08], "MP": [0.36, 0.0, 0.07, 0.12]}
        inset_name = {"AK": "Alaska", "HI": "Hawaii", "PR": "Puerto Rico",
                      "MP": "N. Mariana Is. & Guam"}
        for area in ("AK", "HI", "PR", "MP"):
            if area == "MP" and not (d["area"] == "MP").any():
                continue
            iax = ax.inset_axes(inset_pos[area])
            iax.set_aspect("equal")
            iax.set_axis_off()
            iax.add_collection(PolyCollection(list(polys[area]), facecolor="#EFEFEF",
                                              edgecolor="white", lw=0.4, zorder=0))
            allp = np.vstack(polys[area]) if polys[area] else np.zeros((1, 2))
            lo, hi_ = allp.min(axis=0), allp.max(axis=0)
            pad = (hi_ - lo) * 0.08
            iax.set_xlim(lo[0] - pad[0], hi_[0] + pad[0])
            iax.set_ylim(lo[1] - pad[1], hi_[1] + pad[1])
            iax.text(0.5, 0.0, inset_name[area], transform=iax.transAxes, ha="center",
                     va="top", fontsize=7, color="#777777")
            areas[area] = iax
        for area, sub in d.groupby("area", sort=True):
            a = areas.get(area)
            if a is None:
                continue
            x, y = _albers(sub["lon"], sub["lat"], **_MAP_AREAS[area][1])
            big = (sub["completions"] >= ctx.min_completions).to_numpy()
            a.scatter(x[big], y[big], s=size(sub["completions"][big]),
                      c=sub["pd_rate"][big], cmap=cmap, norm=norm, edgecolor="white",
                      lw=0.6, alpha=0.9, zorder=3)
            a.scatter(x[~big], y[~big], s=size(sub["completions"][~big]), facecolor="none",
                      edgecolor=GREY, lw=0.9, zorder=3)
            for (_, r), xi, yi in zip(sub.iterrows(), x, y):
                if _is_highlight(r["base_city_code"], r["court"]):
                    a.annotate(f"{r['court'].split(',')[0]} {format_pct(r['pd_rate'])}\n"
                               f"n={format_count(r['completions'])}", (xi, yi), xytext=(8, 6),
                               textcoords="offset points", fontsize=8, fontweight="bold",
                               color=VERMILLION, zorder=5,
                               bbox=dict(facecolor="white", edgecolor="none", alpha=0.8, pad=1))
        # colour bar and size key
        sm = matplotlib.cm.ScalarMappable(norm=norm, cmap=cmap)
        cax = ax.inset_axes([0.72, 0.07, 0.26, 0.025])
        cb = fig.colorbar(sm, cax=cax, orientation="horizontal")
        cb.set_label("PD rate (% of completions)", fontsize=8)
        cb.ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(
            lambda v, _: f"{v * 100:g}%"))
        cb.ax.tick_params(labelsize=7.5)
        cb.outline.set_visible(False)
        ref = [v for v in _size_refs(max_n)]
        handles = [Line2D([], [], ls="", marker="o", markersize=math.sqrt(size(v)),
                          mfc="#BBBBBB", mec="white", label=f"{format_count(v)}") for v in ref]
        ax.legend(handles=handles, title="Completions (n)", loc="upper right",
                  bbox_to_anchor=(1.0, 1.0), fontsize=7.5, title_fontsize=8,
                  labelspacing=1.6, borderpad=0.8, handletextpad=1.4, frameon=False)
        return fig


def _size_refs(max_n: float) -> list[int]:
    if max_n <= 0:
        return [1]
    mag = 10 ** int(math.floor(math.log10(max_n)))
    top = int(math.floor(max_n / mag) * mag)
    refs = sorted({max(1, top), max(1, int(top / 4)), max(1, int(top / 20))})
    return refs


# --------------------------------------------------------------------------------------------
# Saving and render_all
# --------------------------------------------------------------------------------------------

# Tables of an embedded TrueType font that a PDF viewer never reads: it draws each glyph by
# index (CIDToGIDMap) at the position matplotlib already computed, so OpenType layout (GSUB,
# GPOS, GDEF), the legacy kern table and the MATH table are dead weight in a Type 42 subset.
PDF_UNUSED_FONT_TABLES = ("GSUB", "GPOS", "GDEF", "kern", "MATH")
_pdf_subset_lock = threading.RLock()


@contextmanager
def _lean_pdf_font_subsets():
    """While saving a PDF, subset its embedded TrueType fonts without their layout tables.

    Why: matplotlib subsets every embedded font with fontTools, which decompiles and walks
    GSUB/GPOS/GDEF (all of DejaVu Sans's lookups) before pruning them: about two thirds of the
    time of a subset, and a figure embeds four. Glyph outlines, metrics, hinting, glyph names and
    the font type (Type 42, /FontFile2) are unchanged, so the pages look the same; the files are
    a few kB smaller.

    How (private matplotlib API, 3.11): ``matplotlib.backends._backend_pdf_ps.get_glyphs_subset``
    loads the font through its module-global ``subset`` (fontTools.subset). For the duration of
    the block that global is a stand-in whose ``load_font`` removes PDF_UNUSED_FONT_TABLES from
    the font, unread, before the subsetter sees it; everything else is fontTools.subset itself.
    The lock keeps another thread's save from seeing the swap half-done.
    tests/test_figures_pdf_fonts.py checks the fonts embedded in a saved PDF, so a matplotlib change that
    bypasses this fails a test instead of silently bringing the slow path back.
    """
    from fontTools import subset as fontTools_subset
    from matplotlib.backends import _backend_pdf_ps

    class LeanSubsetModule:
        @staticmethod
        def load_font(*args, **kwargs):
            font = fontTools_subset.load_font(*args, **kwargs)
            for tag in PDF_UNUSED_FONT_TABLES:
                if tag in font:
                    del font[tag]  # lazily loaded: removed without being decompiled
            return font

        def __getattr__(self, name):
            return getattr(fontTools_subset, name)

    with _pdf_subset_lock:
        original = _backend_pdf_ps.subset
        _backend_pdf_ps.subset = LeanSubsetModule()
        try:
            yield
        finally:
            _backend_pdf_ps.subset = original


def save_figure(fig: Figure, figures_dir: Path, stem: str,
                formats: Sequence[str] = SAVE_FORMATS, *, dpi: int = PNG_DPI) -> list[Path]:
    """Write fig as <stem>.png (200 dpi), .svg and .pdf, reproducibly; returns the paths."""
    figures_dir = Path(figures_dir)
    figures_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    engine = fig.get_layout_engine()
    with plt.style.context(STYLE_PATH), matplotlib.rc_context(
            {"svg.hashsalt": SVG_HASHSALT, "svg.fonttype": "path", "pdf.fonttype": 42}):
        # Lay the figure out once and freeze it: every format gets the same geometry, and the
        # (slow) constrained-layout pass is not repeated for each file.
        if engine is not None:
            engine.execute(fig)  # the layout only, without a throw-away draw
        with matplotlib.rc_context({"figure.autolayout": False,
                                    "figure.constrained_layout.use": False}):
            fig.set_layout_engine(None)  # None (not "none"): savefig then skips its extra draw
        try:
            for fmt in formats:
                path = figures_dir / f"{stem}.{fmt}"
                kwargs = {"dpi": dpi, "pil_kwargs": {"compress_level": PNG_COMPRESS_LEVEL}} if fmt == "png" else {}
                with _lean_pdf_font_subsets() if fmt == "pdf" else nullcontext():
                    fig.savefig(path, format=fmt, metadata=SAVE_METADATA[fmt], **kwargs)
                paths.append(path)
        finally:
            fig.set_layout_engine(engine)
    return paths


def draw_figures(processed_dir: Path, figures_dir: Path, stems: Sequence[str], *, start: str, end: str,
                 pd_codes: str | Sequence[str], excluded_codes: str | Sequence[str], unit: str,
                 min_completions: int, case_types: str, courts: str, policy_dates: Path | None,
                 formats: Sequence[str], dpi: int) -> list[Path]:
    """Draw and save the named figures of a run, in this process. Called by figures.render_all,
    which owns the defaults of these options and documents them."""
    info = read_ingest_info(processed_dir)
    tables = load_tables(processed_dir)
    ctx = FigureContext.build(
        start=start, end=end, pd_codes=pd_codes, excluded_codes=excluded_codes, unit=unit,
        min_completions=min_completions, case_types=case_types, courts=courts,
        release_name=info.get("release_name"),
        release_date=info.get("release_date"), synthetic=bool(info.get("synthetic", False)),
        policy_dates=read_policy_dates(policy_dates),
    )
    nat = tables["national"]
    makers: dict[str, Callable[[], Figure]] = {
        "01_courts_ranked": lambda: courts_ranked(tables["courts"], ctx, national=nat),
        "02_monthly_trend": lambda: monthly_trend(tables["months"], ctx, national=nat),
        "03_fiscal_years": lambda: fiscal_years(tables["fiscal_years"], ctx),
        "04_states_circuits": lambda: states_circuits(tables["states"], tables["circuits"], ctx, national=nat),
        "05_hearing_locations": lambda: hearing_locations(tables["hearing_locations"], tables["courts"], ctx,
                                                          national=nat),
        "06_court_map": lambda: court_map(tables["courts"], ctx, national=nat),
    }
    written: list[Path] = []
    for stem in stems:
        fig = makers[stem]()
        try:
            written += save_figure(fig, figures_dir, stem, formats, dpi=dpi)
        finally:
            plt.close(fig)
    return written
