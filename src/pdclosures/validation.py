"""Checks a run against TRAC's published figures, and shows how much the definition matters.

Published-figure comparison (``validation.csv``)
    Every figure in data/reference/trac_published.csv and published_more.csv is listed. A figure is
    computable when the run has its exact window: the run's window (national.csv, courts.csv), a
    fiscal year or clipped fiscal year of the run (fiscal_years.csv), or whole calendar months inside
    the run's window (summed from months.csv; national figures only). Some figures need counts of
    their own (``extra_counts``): EOIR's totals on the eoir-completions basis, PD terminations
    (OTHER_COMP I), the backlog at the window's start or end, and TRAC's 2012 backlog basis per
    nationality (``pending_at_start_by_nationality``). Each computable figure passes or fails by the
    rule its published wording implies (see ``check``); the rest are "not computable", with the reason.

Sensitivity (``sensitivity.csv``; figures.sensitivity draws it as figure 07)
    The national rate for the run's window under alternative definitions, each changing one thing
    from the run's method: the unit (proceeding or case), the PD code set ({Y}, {Y,M}, {Y,M,I}),
    whether change-of-venue (C) and transfer (T) completions count, removal-type cases only, the
    other definition (pd-closures or pd-dismissals), OTHER_COMP F, A and K each added to the PD
    codes (not PD: they grew after 2021 for other reasons), EOIR's completions basis (decisions only,
    for totals beside EOIR's Adjudication Statistics), and TRAC's 2012 backlog basis (proceedings
    pending at the window's start as the denominator).

PD code timeline
    ``pd_code_first_months`` gives, per fiscal year, the first month each PD code closes a
    proceeding; ``pd_code_lookup`` gives the codes' rows in tblLookupCourtDecision (datCreatedOn).

docs/methodology.md explains every choice. What is counted is definition.py's; the rates and
intervals are rates.py's.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pandas as pd

from . import definition, release_format
from .definition import Method, Window
from .errors import ReleaseError
from .ingest import IngestResult
from .rates import RATE_COLUMNS, RateCalculator, load_monthly, write_tables

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REFERENCE_DIR = PROJECT_ROOT / "data" / "reference"
PUBLISHED_PATH = REFERENCE_DIR / "trac_published.csv"
# Figures added in issues 19 and 21 (report 474, EOIR's own statistics, nationalities, ...), each with
# a confidence: read after trac_published.csv, in the same columns plus `confidence`.
PUBLISHED_MORE_PATH = REFERENCE_DIR / "published_more.csv"
PUBLISHED_PATHS = (PUBLISHED_PATH, PUBLISHED_MORE_PATH)
PUBLISHED_COLUMNS = ["source", "url", "published", "window_start", "window_end", "geography", "metric", "value", "note"]
OPTIONAL_PUBLISHED_COLUMNS = ["confidence"]  # empty where a file has no such column

PASS, FAIL, NOT_COMPUTABLE = "pass", "fail", "not computable"
VALIDATION_COLUMNS = [
    "source",
    "url",
    "published",
    "window_start",
    "window_end",
    "geography",
    "metric",
    "published_value",
    "computed_value",
    "difference",
    "tolerance",
    "status",
    "basis",
    "detail",
    "note",
    "confidence",
]

# "About 30 percent": read as rounded to the nearest 5 points, so anything from 27.5 to 32.5 passes.
APPROX_TOLERANCE_POINTS = 2.5
# "About 2,400 a month", "some 650 cases": within 5 percent of the published count.
APPROX_COUNT_SHARE = 0.05
# Floating-point slack, so that a value exactly half a unit away (6.65 vs 6.7) is not lost to binary.
EPSILON = 1e-9

# Quantities a published metric can name, and which counts they are computed from.
# Counts of PD closures: under the run's method; pd_terminations: its OTHER_COMP I closures only;
# per month: averaged over the calendar months of the figure's window.
PD_QUANTITIES = {"pd_closures", "pd_terminations", "pd_closures_per_month"}
# Counts of completions (all_closures, all_dispositions and total_completions are the publications'
# words for completions under the run's method; eoir_total_completions on the eoir-completions basis)
# and of proceedings pending (at the window's start, or at the end of the window's last day).
COMPLETION_QUANTITIES = {
    "all_closures",
    "all_dispositions",
    "total_completions",
    "eoir_total_completions",
    "pending_at_start",
    "pending_at_end",
    "eoir_pending_at_end",
}
COUNT_QUANTITIES = PD_QUANTITIES | COMPLETION_QUANTITIES
RATE_QUANTITIES = {"pd_rate_pct", "pd_rate_pct_of_pending"}
PENDING_QUANTITIES = {"pending_at_start", "pd_rate_pct_of_pending"}
END_PENDING_QUANTITIES = {"pending_at_end", "eoir_pending_at_end"}
EOIR_QUANTITIES = {"eoir_total_completions", "eoir_pending_at_end"}
PER_MONTH_QUANTITIES = {"pd_closures_per_month"}
# A nationality's figures are on TRAC's 2012 basis: its proceedings pending at the window's start.
NATIONALITY_QUANTITIES = {"pd_closures", "pending_at_start", "pd_rate_pct_of_pending"}
# _approx: "about N"; _range: "A to B percent" (rates only); _max: "fewer than N".
FORMS = ("approx", "range", "max")
TERMINATION_CODES = ("I",)  # OTHER_COMP "Prosecutorial Discretion - Terminated" (report 278's terminations)

SENSITIVITY_COLUMNS = ["definition", "is_default", "label", "denominator", "start", "end", *RATE_COLUMNS, "description"]
PD_CODE_SETS = (("Y",), ("Y", "M"), ("Y", "M", "I"))
PENDING = "pending_at_start"
# The denominator of the eoir-completions basis row: EOIR's own completions (decisions only), there for
# its total, to set beside EOIR's Adjudication Statistics.
EOIR_DENOMINATOR = "EOIR completions (decisions only)"
DENOMINATORS = {PENDING: "proceedings pending at start"}  # sensitivity.csv's words for a denominator


# --------------------------------------------------------------------------------------------
# Published figures


def load_published(path: str | Path | None = None) -> pd.DataFrame:
    """The published figures, every column as text (values like '3-4' stay text).

    Without a path: data/reference/trac_published.csv, then published_more.csv. Each row must name a
    known metric, ISO window dates and a value its metric's rule can read."""
    paths = [Path(path)] if path is not None else [p for p in PUBLISHED_PATHS if p.exists()]
    frames = []
    for one in paths:
        frame = pd.read_csv(one, dtype=str, keep_default_na=False)
        missing = [c for c in PUBLISHED_COLUMNS if c not in frame.columns]
        if missing:
            raise ValueError(f"{one}: missing column(s) {', '.join(missing)}")
        for column in OPTIONAL_PUBLISHED_COLUMNS:
            if column not in frame.columns:
                frame[column] = ""
        for line, row in enumerate(frame.itertuples(), start=2):
            try:
                check(row.metric, row.value, None)  # reads the metric and the value
                if dt.date.fromisoformat(row.window_start) > dt.date.fromisoformat(row.window_end):
                    raise ValueError(f"window_start {row.window_start} is after window_end {row.window_end}")
            except ValueError as error:
                raise ValueError(f"{one}, line {line}: {error}") from None
        frames.append(frame[PUBLISHED_COLUMNS + OPTIONAL_PUBLISHED_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def parse_metric(metric: str) -> tuple[str, str]:
    """'pd_rate_pct_range' -> ('pd_rate_pct', 'range'); 'pd_closures' -> ('pd_closures', 'exact');
    'pd_closures_per_month_max' -> ('pd_closures_per_month', 'max'). Ranges are for percentages only."""
    for form in FORMS:
        if metric.endswith("_" + form):
            quantity = metric[: -len(form) - 1]
            if quantity in RATE_QUANTITIES or (quantity in COUNT_QUANTITIES and form != "range"):
                return quantity, form
    if metric in COUNT_QUANTITIES or metric in RATE_QUANTITIES:
        return metric, "exact"
    raise ValueError(
        f"unknown metric {metric!r} (known: {', '.join(sorted(COUNT_QUANTITIES | RATE_QUANTITIES))}; "
        "any of them with _approx or _max, and percentages with _range)"
    )


def check(metric: str, published_value: str, computed: float | None) -> tuple[str, float, str]:
    """Pass or fail one computed value against one published figure: (status, difference, tolerance).

    - counts (pd_closures, all_closures, pending_at_start, ...): exact equality;
    - a percentage as published (6.7, 7.0, 30): passes if the computed percentage rounds to it,
      |computed - published| <= half a unit of the last published digit (0.05 for one decimal);
    - _approx ("about 30" percent): within APPROX_TOLERANCE_POINTS (2.5) points; a count ("about
      2,400 a month", "some 650"): within APPROX_COUNT_SHARE (5%) of it;
    - _range "3-4": passes if the computed percentage, rounded to one decimal, lies in [3, 4];
      a range from 0 ("0-3", TRAC's "less than three percent") passes if computed < 3;
    - _max "100" ("fewer than 100 a month"): passes if computed < 100.
    difference is computed - published; for a range, the distance outside it (0 inside).
    A missing computed value (no completions) fails.
    """
    quantity, form = parse_metric(metric)
    text = str(published_value).strip()
    margin = 0.0
    if form == "range":
        low, high = _parse_range(text)
        tolerance = f"< {_fmt(high)}" if low == 0 else f"rounds to one decimal within [{_fmt(low)}, {_fmt(high)}]"
    elif form == "max":
        low = high = float(text)
        tolerance = f"< {_fmt(high)}"
    elif form == "approx":
        low = high = float(text)
        if quantity in COUNT_QUANTITIES:
            margin = APPROX_COUNT_SHARE * low
            tolerance = f"±{APPROX_COUNT_SHARE:.0%} ('about': {_fmt(low - margin)} to {_fmt(low + margin)})"
        else:
            margin = APPROX_TOLERANCE_POINTS
            tolerance = f"±{_fmt(APPROX_TOLERANCE_POINTS)} points ('about')"
    elif quantity in COUNT_QUANTITIES:
        low = high = float(text)
        tolerance = "exact"
    else:
        low = high = float(text)
        decimals = len(text.split(".")[1]) if "." in text else 0
        margin = 0.5 * 10**-decimals
        tolerance = f"±{margin:.{decimals + 1}f} points (published to {decimals} decimal{'s' * (decimals != 1)})"
    if computed is None or (isinstance(computed, float) and math.isnan(computed)):
        return FAIL, float("nan"), tolerance
    computed = float(computed)
    if form == "range":
        if low == 0:
            ok = computed < high
            difference = 0.0 if ok else computed - high
        else:
            ok = low - 0.05 - EPSILON <= computed <= high + 0.05 + EPSILON
            difference = 0.0 if low <= computed <= high else (computed - low if computed < low else computed - high)
    elif form == "max":
        difference = computed - high
        ok = computed < high
    else:
        difference = computed - low
        exact_count = form == "exact" and quantity in COUNT_QUANTITIES
        ok = computed == low if exact_count else abs(difference) <= margin + EPSILON
    return (PASS if ok else FAIL), difference, tolerance


def _parse_range(text: str) -> tuple[float, float]:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\s*", text)
    if not match:
        raise ValueError(f"range {text!r}: expected 'low-high', e.g. 3-4")
    low, high = float(match.group(1)), float(match.group(2))
    if high < low:
        raise ValueError(f"range {text!r}: high is below low")
    return low, high


def _fmt(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class Counts:
    """PD closures over a denominator, and where in the run's outputs they come from."""

    pd_closures: int
    completions: int
    basis: str
    months: int = 0  # the calendar months the counts cover, for per-month figures (0: not whole months)

    def value(self, quantity: str) -> float:
        if quantity in ("pd_closures", "pd_terminations"):
            return float(self.pd_closures)
        if quantity in PER_MONTH_QUANTITIES:
            return self.pd_closures / self.months if self.months else float("nan")
        if quantity in COMPLETION_QUANTITIES:
            return float(self.completions)
        return 100.0 * self.pd_closures / self.completions if self.completions else float("nan")


@dataclass
class ExtraCounts:
    """Counts some published figures need beyond the rates stage's tables (made by extra_counts).

    eoir and terminations: national, fiscal_years and months tables (shaped like the CSVs) on the
    eoir-completions basis and with OTHER_COMP I as the only PD code; pending_at and eoir_pending_at:
    proceedings pending when a day begins (the window's start, the day after its end), under the run's
    scope and on the eoir-completions basis; by_nationality: pending_at_start_by_nationality(), or
    None with the reason in nationality_note (the release lacks NAT or the lookup)."""

    eoir: dict[str, pd.DataFrame] | None = None
    terminations: dict[str, pd.DataFrame] | None = None
    pending_at: dict[dt.date, int] = field(default_factory=dict)
    eoir_pending_at: dict[dt.date, int] = field(default_factory=dict)
    by_nationality: pd.DataFrame | None = None
    nationality_note: str = ""


def compare(
    published: pd.DataFrame,
    window: Window,
    national: pd.DataFrame,
    *,
    courts: pd.DataFrame | None = None,
    fiscal_years: pd.DataFrame | None = None,
    months: pd.DataFrame | None = None,
    pending: pd.DataFrame | dict | None = None,
    restricted_courts: tuple[str, ...] | None = None,
    extra: ExtraCounts | None = None,
    scale: float = 1.0,
) -> pd.DataFrame:
    """Every published figure beside its computed value, with difference, tolerance and status.

    national, courts, fiscal_years and months are shaped like the rates stage's CSVs (only the
    key columns and pd_closures, completions are read); pending is the sensitivity row of the
    pending-at-start definition (pd_closures over the proceedings pending at the window's start);
    extra holds the counts of the other bases (see ExtraCounts; without it those figures are not
    computable). restricted_courts: the run's courts parameter; national figures then cannot be computed.
    scale: real proceedings per proceeding of a synthetic sample (its manifest's scale): computed counts
    are multiplied by it before the check, percentages are not.
    """
    tables = {"national": national, "fiscal_years": fiscal_years, "months": months}
    rows = []
    for figure in published.to_dict("records"):
        quantity, _ = parse_metric(figure["metric"])
        counts, detail = _find_counts(figure, quantity, window, tables, courts, pending, restricted_courts, extra)
        row = {
            **{
                k: figure[k]
                for k in ["source", "url", "published", "window_start", "window_end", "geography", "metric", "note"]
            },
            "confidence": figure.get("confidence", ""),
            "published_value": figure["value"],
        }
        if counts is None:
            _, _, tolerance = check(figure["metric"], figure["value"], None)
            row.update(
                computed_value=float("nan"),
                difference=float("nan"),
                tolerance=tolerance,
                status=NOT_COMPUTABLE,
                basis="",
                detail=detail,
            )
        else:
            computed, basis = counts.value(quantity), counts.basis
            if scale != 1 and quantity in COUNT_QUANTITIES:
                computed, basis = computed * scale, f"{basis} × {scale:g} (the synthetic sample's scale)"
            status, difference, tolerance = check(figure["metric"], figure["value"], computed)
            if math.isnan(computed):
                detail = f"no completions in {counts.basis}"
            row.update(
                computed_value=computed,
                difference=difference,
                tolerance=tolerance,
                status=status,
                basis=basis,
                detail=detail,
            )
        rows.append(row)
    return pd.DataFrame(rows, columns=VALIDATION_COLUMNS)


def _find_counts(figure, quantity, window, tables, courts, pending, restricted_courts, extra):
    """(Counts, detail) for a published figure, or (None, reason) if the run cannot compute it."""
    start, end = dt.date.fromisoformat(figure["window_start"]), dt.date.fromisoformat(figure["window_end"])
    geography = figure["geography"]
    same_window = (start, end) == (window.start, window.end)
    not_this_window = (
        f"not computable for this window: the run covers {window.start}..{window.end}; "
        f"this figure is for {start}..{end}"
    )
    if geography == "national":
        if restricted_courts:
            return None, f"run restricted to courts {', '.join(restricted_courts)}; national figures need all courts"
        return _national_counts(quantity, start, end, window, tables, pending, extra, not_this_window)
    if geography.startswith("court:"):
        code = geography.split(":", 1)[1].strip().upper()
        if restricted_courts and code not in restricted_courts:
            return None, f"run restricted to courts {', '.join(restricted_courts)}"
        if quantity in PENDING_QUANTITIES | END_PENDING_QUANTITIES:
            return None, "pending figures are computed nationally (and by nationality) only"
        if quantity not in {"pd_closures", "all_closures", "pd_rate_pct"}:
            return None, f"{quantity} is computed nationally only"
        if not same_window:
            return None, not_this_window
        if courts is None:
            return None, "courts.csv not given"
        match = courts[courts["base_city_code"].astype(str) == code]
        if not len(match):
            return Counts(0, 0, f"courts.csv {code}"), ""
        row = match.iloc[0]
        return Counts(int(row["pd_closures"]), int(row["completions"]), f"courts.csv {code}"), ""
    if geography.startswith("nationality:"):
        if restricted_courts:
            return None, f"run restricted to courts {', '.join(restricted_courts)}; nationality figures need all courts"
        if quantity not in NATIONALITY_QUANTITIES:
            return None, (
                "nationality figures are checked on the pending-at-start basis only: "
                f"{', '.join(sorted(NATIONALITY_QUANTITIES))} (and their percentage forms)"
            )
        fits = start == window.start if quantity == "pending_at_start" else same_window
        if not fits:
            return None, not_this_window
        if extra is None or extra.by_nationality is None:
            note = extra.nationality_note if extra is not None else ""
            return None, note or "pending counts by nationality not given"
        row, reason = nationality_row(extra.by_nationality, geography.split(":", 1)[1])
        if row is None:
            return None, "; ".join(filter(None, [reason, extra.nationality_note]))
        return Counts(
            int(row["pd_closures"]),
            int(row["pending_at_start"]),
            f"pending at {window.start} by nationality: {row['nat']} ({row['nationality']})",
        ), ""
    return None, f"unknown geography {geography!r}"


def _national_counts(quantity, start, end, window, tables, pending, extra, not_this_window):
    if quantity in PENDING_QUANTITIES:
        if pending is None or len(pending) == 0:
            return None, "pending-at-start counts not given"
        # The backlog at the start depends on the start only; its PD share on the whole window.
        fits = start == window.start if quantity == "pending_at_start" else (start, end) == (window.start, window.end)
        if not fits:
            return None, not_this_window
        row = pending if isinstance(pending, dict) else pending.iloc[0].to_dict()
        return Counts(
            int(row["pd_closures"]), int(row["completions"]), f"sensitivity.csv {PENDING} (pending at {window.start})"
        ), ""
    if quantity in END_PENDING_QUANTITIES:
        # The backlog at the end of a day is the backlog when the next day begins: the run knows it for
        # the day before its window starts and for the window's last day.
        day = end + dt.timedelta(days=1)
        if day not in (window.start, window.end + dt.timedelta(days=1)):
            return None, (
                f"not computable for this window: the backlog at the end of {end} is known to a run that "
                f"starts on {day} or ends on {end}; the run covers {window.start}..{window.end}"
            )
        eoir = quantity in EOIR_QUANTITIES
        known = (extra.eoir_pending_at if eoir else extra.pending_at) if extra is not None else {}
        if day not in known:
            return None, "pending counts not given"
        basis = "eoir-completions basis: " if eoir else ""
        return Counts(0, int(known[day]), f"{basis}proceedings pending at the end of {end}"), ""
    if quantity in EOIR_QUANTITIES:
        source, prefix = (extra.eoir if extra is not None else None), "eoir-completions basis"
    elif quantity == "pd_terminations":
        source, prefix = (extra.terminations if extra is not None else None), "OTHER_COMP I only"
    else:
        source, prefix = tables, None
    if source is None:
        if quantity == "pd_terminations" and extra is not None:
            return None, (
                f"OTHER_COMP {', '.join(TERMINATION_CODES)} (PD terminated by the judge) occurs nowhere in this "
                "release: its terminations cannot be counted"
            )
        return None, f"{prefix} counts not given"
    per_month = quantity in PER_MONTH_QUANTITIES
    if per_month and not Window(start, end).whole_months():
        return None, "a figure per month needs a window of whole calendar months"
    counts = _window_counts(start, end, window, source, prefix)
    return (counts, "") if counts is not None else (None, not_this_window)


def _window_counts(start, end, window, tables, prefix=None) -> Counts | None:
    """The counts for exactly start..end from a set of tables: the run's window (national), a fiscal
    year or clipped fiscal year (fiscal_years), or whole months inside the window (months)."""
    months = len(Window(start, end).months()) if Window(start, end).whole_months() else 0

    def basis(table, what=""):
        name = f"{table}.csv" if prefix is None else f"{prefix}, {table}"
        return f"{name} {what}".strip()

    national, fiscal_years, month_rows = tables.get("national"), tables.get("fiscal_years"), tables.get("months")
    if (start, end) == (window.start, window.end) and national is not None and len(national):
        row = national.iloc[0]
        return Counts(int(row["pd_closures"]), int(row["completions"]), basis("national"), months)
    if fiscal_years is not None and len(fiscal_years):
        match = fiscal_years[
            (fiscal_years["period_start"].astype(str) == start.isoformat())
            & (fiscal_years["period_end"].astype(str) == end.isoformat())
        ]
        if len(match):
            row = match.iloc[0]
            partial = " (part in window)" if _truthy(row.get("partial", False)) else ""
            what = f"FY{int(row['fiscal_year'])}{partial}"
            return Counts(int(row["pd_closures"]), int(row["completions"]), basis("fiscal_years", what), months)
    if month_rows is not None and len(month_rows) and _whole_months_inside(start, end, window):
        wanted = [p.strftime("%Y-%m") for p in pd.period_range(start, end, freq="M")]
        match = month_rows[month_rows["month"].astype(str).isin(wanted)]
        if len(match) == len(wanted):
            label = wanted[0] if len(wanted) == 1 else f"{wanted[0]}..{wanted[-1]}"
            return Counts(
                int(match["pd_closures"].sum()), int(match["completions"].sum()), basis("months", label), months
            )
    return None


def nationality_row(by_nationality: pd.DataFrame, key: str) -> tuple[dict | None, str]:
    """The row of pending_at_start_by_nationality() for a NAT code ('MX') or a tblLookupNationality
    name ('Mexico', any case): (row, "") or (None, why not)."""
    wanted = " ".join(str(key).split()).upper()
    codes = by_nationality["nat"].astype(str).str.upper()
    match = by_nationality[codes == wanted]
    if not len(match):
        names = by_nationality["nationality"].astype(str).map(lambda n: " ".join(n.split()).upper())
        match = by_nationality[(names == wanted) & (codes != names)]  # a name, not a code standing in for one
    if len(match) == 1:
        return match.iloc[0].to_dict(), ""
    if len(match) > 1:
        return None, f"nationality {key!r} names several NAT codes ({', '.join(match['nat'])}) in tblLookupNationality"
    return None, f"nationality {key!r} is neither a NAT code nor a NAT_NAME in tblLookupNationality"


def _whole_months_inside(start: dt.date, end: dt.date, window: Window) -> bool:
    month_end = (pd.Timestamp(end) + pd.offsets.MonthEnd(0)).date()
    return start.day == 1 and end == month_end and window.start <= start and end <= window.end


def _truthy(value) -> bool:
    return str(value).strip().lower() in ("true", "1", "yes")


def validate_run(
    processed_dir: str | Path,
    window: Window,
    method: Method = Method(),
    *,
    pending: pd.DataFrame | dict | None = None,
    published: pd.DataFrame | None = None,
    extra: ExtraCounts | None = None,
    scale: float = 1.0,
) -> pd.DataFrame:
    """compare() on a run's processed tables (national, courts, fiscal_years, months CSVs)."""
    processed_dir = Path(processed_dir)

    def read(stem):
        return pd.read_csv(
            processed_dir / f"{stem}.csv",
            dtype={"base_city_code": str, "month": str, "period_start": str, "period_end": str},
            keep_default_na=False,
            na_values=[""],
        )

    return compare(
        published if published is not None else load_published(),
        window,
        read("national"),
        courts=read("courts"),
        fiscal_years=read("fiscal_years"),
        months=read("months"),
        pending=pending,
        restricted_courts=method.courts,
        extra=extra,
        scale=scale,
    )


def format_validation(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as text for the CSV: counts as whole numbers (averages per month to one decimal),
    percentages to three decimals."""
    out = frame.copy()
    formats = [_csv_format(parse_metric(m)[0]) for m in out["metric"]]
    for column in ("computed_value", "difference"):
        out[column] = [
            ("" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec))
            for v, spec in zip(out[column], formats)
        ]
    return out


def _csv_format(quantity: str) -> str:
    if quantity in PER_MONTH_QUANTITIES:
        return ".1f"
    return ".0f" if quantity in COUNT_QUANTITIES else ".3f"


def for_reading(frame: pd.DataFrame) -> pd.DataFrame:
    """published_value, computed_value and difference as a reader expects them: counts with thousands
    separated ("16,306", "about 2,400 a month", "under 100 a month"), percentages with a % sign
    ("about 30%", "3–4%", "6.80%"), differences of percentages in points. For notebooks and the
    report; validation.csv keeps format_validation's."""
    out = frame.copy()
    published, computed, difference = [], [], []
    for metric, value, got, diff in zip(
        out["metric"], out["published_value"], out["computed_value"], out["difference"]
    ):
        quantity, form = parse_metric(metric)
        missing = got is None or math.isnan(got)
        if quantity in COUNT_QUANTITIES:
            per_month = quantity in PER_MONTH_QUANTITIES
            unit = " a month" if per_month else ""
            decimals = 1 if per_month else 0
            number = f"{float(value):,.0f}"
            published.append({"approx": f"about {number}", "max": f"under {number}"}.get(form, number) + unit)
            computed.append("" if missing else f"{got:,.{decimals}f}{unit}")
            difference.append("" if missing else f"{diff:+,.{decimals}f}")
            continue
        if form == "range":
            low, high = _parse_range(value)
            published.append(f"under {_fmt(high)}%" if low == 0 else f"{_fmt(low)}–{_fmt(high)}%")
        else:
            published.append({"approx": f"about {value}%", "max": f"under {value}%"}.get(form, f"{value}%"))
        computed.append("" if missing else f"{got:.2f}%")
        difference.append("" if missing else f"{diff:+.2f} points")
    out["published_value"], out["computed_value"], out["difference"] = published, computed, difference
    return out


def write_validation(frame: pd.DataFrame, processed_dir: str | Path) -> Path:
    path = Path(processed_dir) / "validation.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    format_validation(frame).to_csv(path, index=False, lineterminator="\n")
    return path


def summary(frame: pd.DataFrame) -> dict[str, int]:
    """How many figures passed, failed and could not be computed."""
    counts = frame["status"].value_counts()
    return {status: int(counts.get(status, 0)) for status in (PASS, FAIL, NOT_COMPUTABLE)}


def published_national_rate(frame: pd.DataFrame) -> tuple[float, str] | None:
    """TRAC's published national PD rate (percent) for exactly the run's window, if there is one."""
    candidates = frame[
        (frame["geography"] == "national")
        & (frame["status"] != NOT_COMPUTABLE)
        & frame["metric"].isin(["pd_rate_pct", "pd_rate_pct_approx"])
        & (frame["basis"] == "national.csv")
    ]
    if not len(candidates):
        return None
    row = candidates.iloc[0]
    return float(row["published_value"]), f"{row['source']} ({row['published']}): {row['published_value']}%"


# --------------------------------------------------------------------------------------------
# Sensitivity to the definition


@dataclass(frozen=True)
class Definition:
    """One way of defining the national PD rate."""

    name: str
    label: str
    method: Method
    denominator: str = "completions"  # or PENDING, or EOIR_DENOMINATOR
    is_default: bool = False

    def description(self) -> str:
        if self.denominator == PENDING:
            unit = "cases (distinct IDNCASE)" if self.method.unit == "case" else "proceedings"
            filters = []
            if self.method.case_types is not None:
                filters.append(f"case types {', '.join(self.method.case_types)}")
            if self.method.courts:
                filters.append(f"courts {', '.join(self.method.courts)}")
            return (
                f"TRAC's 2012 backlog basis. Denominator: {unit} pending at the window's start (a valid "
                "INPUT_DATE, or OSC_DATE where INPUT_DATE is empty, before the start, and no valid COMP_DATE "
                "before the start), whatever their later outcome; numerator: those with "
                f"OTHER_COMP in {{{', '.join(self.method.pd_codes)}}}"
                + (" or a DEC_CODE dismissal" if self.method.definition == definition.PD_DISMISSALS else "")
                + " and COMP_DATE in the window"
                + (f"; {'; '.join(filters)}" if filters else "")
            )
        return self.method.describe()


def sensitivity_definitions(method: Method = Method()) -> list[Definition]:
    """The run's method, then each alternative that changes one thing from it."""
    out = [
        Definition(
            "default", "Run's method" + (" (project default)" if method.is_default() else ""), method, is_default=True
        )
    ]

    def add(name, label, changed: Method):
        if changed != method and all(d.method != changed or d.denominator != "completions" for d in out):
            out.append(Definition(name, label, changed))

    other_unit = "case" if method.unit == "proceeding" else "proceeding"
    add(
        f"unit={other_unit}",
        "Unit: case (distinct IDNCASE)" if other_unit == "case" else "Unit: proceeding",
        replace(method, unit=other_unit),
    )
    for codes in PD_CODE_SETS:
        add(
            f"pd_codes={','.join(codes)}",
            f"PD codes {{{', '.join(codes)}}}",
            replace(method, pd_codes=codes, excluded_codes=tuple(c for c in method.excluded_codes if c not in codes)),
        )
    if method.excluded_codes:
        add("excluded_codes=none", "C and T kept in the denominator", replace(method, excluded_codes=()))
    else:
        add(
            "excluded_codes=C,T",
            "C and T excluded from the denominator",
            replace(
                method,
                excluded_codes=tuple(c for c in definition.NEW_PROCEEDING_CODES_DEFAULT if c not in method.pd_codes),
            ),
        )
    removal = tuple(release_format.REMOVAL_CASE_TYPES)
    if method.case_types is None or set(method.case_types) != set(removal):
        add(
            f"case_types={','.join(removal)}",
            "Removal-type cases only (RMV, DEP, EXC)",
            replace(method, case_types=removal),
        )
    if method.case_types is not None:
        add("case_types=all", "All case types", replace(method, case_types=None))
    if method.definition == definition.PD_CLOSURES:
        add(
            f"definition={definition.PD_DISMISSALS}",
            "Also DEC_CODE dismissals (pd-dismissals; a proxy, an upper bound)",
            replace(method, definition=definition.PD_DISMISSALS),
        )
    else:
        add(
            f"definition={definition.PD_CLOSURES}",
            "OTHER_COMP PD codes only (pd-closures)",
            replace(method, definition=definition.PD_CLOSURES, dismissals=(), dismissal_override=()),
        )
    for code, meaning in definition.NOT_PD_OTHER_COMP.items():
        if code not in method.pd_codes and code not in method.excluded_codes:
            add(
                f"pd_codes+{code}",
                f"Also OTHER_COMP {code}, {meaning} (not PD)",
                replace(method, pd_codes=(*method.pd_codes, code)),
            )
    out.append(
        Definition(
            "basis=eoir-completions",
            "EOIR's completions basis (decisions only; RMV, DEP, EXC, AOC, WHO)",
            definition.eoir_completions(method),
            denominator=EOIR_DENOMINATOR,
        )
    )
    out.append(Definition(PENDING, "Denominator: pending at start (TRAC 2012)", method, denominator=PENDING))
    return out


def pending_at_start_sql(window: Window, method: Method) -> str:
    """PD closures in the window among the proceedings (or cases) pending at the window's start.

    Pending at the start: a valid INPUT_DATE (or, where INPUT_DATE is empty, OSC_DATE) before the
    start, and no valid COMP_DATE before the start. Every such proceeding counts in the
    denominator whatever its later outcome (change-of-venue and transfer included: the backlog is
    every open proceeding). The numerator is those closed in the window with an OTHER_COMP in the
    PD code set. Case types and courts filter as in the method; unit=case counts distinct IDNCASE.
    """
    filters = [*definition.pending_sql(window.start), *definition.scope_sql(method)]
    is_pd = f"{definition.in_window_sql(window)} AND {definition.is_pd_sql(method)}"
    unit = "DISTINCT IDNCASE" if method.unit == "case" else "*"
    return f"""SELECT count({unit}) FILTER (WHERE {is_pd}) AS pd_closures, count({unit}) AS completions
               FROM proceedings WHERE {" AND ".join(filters)}"""


def pending_at_start(calculator: RateCalculator, method: Method | None = None) -> pd.DataFrame:
    """One row like national(): pd_closures over the proceedings pending at the window's start."""
    sql = pending_at_start_sql(calculator.window, calculator.resolve(method) if method else calculator.method)
    return calculator.national_row(calculator.con.execute(sql).df())


def pending_at(calculator: RateCalculator, day: dt.date, method: Method | None = None) -> int:
    """Proceedings (or cases, with unit=case) pending when the day begins, under a method's case types
    and courts: the backlog at the end of the day before (definition.pending_sql)."""
    method = method or calculator.method
    unit = "DISTINCT IDNCASE" if method.unit == "case" else "*"
    filters = [*definition.pending_sql(day), *definition.scope_sql(method)]
    sql = f"SELECT count({unit}) FROM proceedings WHERE {' AND '.join(filters)}"
    return int(calculator.con.execute(sql).fetchone()[0])


def pending_at_start_by_nationality(calculator: RateCalculator) -> pd.DataFrame:
    """TRAC's 2012 backlog basis per nationality: for each NAT, the proceedings pending at the window's
    start (pending_at_start) and the PD closures among them in the window (pd_closures), under the
    run's method (its scope, unit and PD definition).

    Columns nat, nationality, pending_at_start, pd_closures; largest backlog first. nationality is the
    NAT_NAME of tblLookupNationality; every nationality of the lookup has a row (zeros where none was
    pending), and a code missing from it is '(unknown code XX)'. Without the lookup, nationality is the
    code. A cache without NAT (built before issue 21) raises ReleaseError."""
    ingest, window, method = calculator.ingest, calculator.window, calculator.method
    columns = set(calculator.con.execute("SELECT * FROM proceedings LIMIT 0").df().columns)
    if "NAT" not in columns:
        raise ReleaseError(
            f"{ingest.proceedings_path}: the cache has no NAT column (built before nationalities were kept); "
            "ingest the release again"
        )
    unit = "DISTINCT IDNCASE" if method.unit == "case" else "*"
    filters = [*definition.pending_sql(window.start), *definition.scope_sql(method)]
    is_pd = f"{definition.in_window_sql(window)} AND {definition.is_pd_sql(method)}"
    counts = calculator.con.execute(f"""
        SELECT NAT AS nat, count({unit}) AS pending_at_start, count({unit}) FILTER (WHERE {is_pd}) AS pd_closures
        FROM proceedings WHERE {" AND ".join(filters)} GROUP BY NAT""").df()
    counts["nat"] = counts["nat"].astype(object)
    if ingest.has_lookup(release_format.NATIONALITY_TABLE):
        # The cache keeps one lookup row per code (cleaning.reduce_lookup).
        lookup = pd.read_parquet(ingest.lookup_path(release_format.NATIONALITY_TABLE), columns=["NAT_CODE", "NAT_NAME"])
        lookup = lookup.dropna(subset=["NAT_CODE"]).drop_duplicates("NAT_CODE")
        names = dict(zip(lookup["NAT_CODE"], lookup["NAT_NAME"]))
        frame = counts.merge(lookup.rename(columns={"NAT_CODE": "nat"})[["nat"]], on="nat", how="outer")
        frame["nationality"] = [
            "(no nationality code)"
            if pd.isna(code)
            else (names[code] if isinstance(names.get(code), str) and names[code] else f"(unknown code {code})")
            if code in names
            else f"(unknown code {code})"
            for code in frame["nat"]
        ]
    else:
        frame = counts
        frame["nationality"] = ["(no nationality code)" if pd.isna(code) else code for code in frame["nat"]]
    frame["nat"] = frame["nat"].fillna("")
    for column in ("pending_at_start", "pd_closures"):
        frame[column] = frame[column].fillna(0).astype("int64")
    frame = frame.sort_values(["pending_at_start", "nat"], ascending=[False, True], kind="mergesort")
    return frame[["nat", "nationality", "pending_at_start", "pd_closures"]].reset_index(drop=True)


def basis_tables(calculator: RateCalculator, method: Method) -> dict[str, pd.DataFrame]:
    """national, fiscal_years and months, as the rates stage makes them, for the run's window under
    another method (the eoir-completions basis, PD terminations)."""
    other = RateCalculator(calculator.ingest, calculator.window, method)
    try:
        return {"national": other.national(), "fiscal_years": other.fiscal_years(), "months": other.months()}
    finally:
        other.con.close()


def terminations_method(method: Method) -> Method:
    """The run's method with OTHER_COMP I (PD terminated by the judge) as its only PD code, and no
    dismissals (report 278 counted the terminations among the PD closures of the 2012 codes)."""
    return replace(method, pd_codes=TERMINATION_CODES, definition=definition.PD_CLOSURES, dismissals=())


def extra_counts(calculator: RateCalculator) -> ExtraCounts:
    """Everything compare() needs beyond the rates stage's tables, for the calculator's window."""
    window = calculator.window
    days = (window.start, window.end + dt.timedelta(days=1))
    eoir = definition.EOIR_COMPLETIONS
    extra = ExtraCounts(
        eoir=basis_tables(calculator, eoir),
        pending_at={day: pending_at(calculator, day) for day in days},
        eoir_pending_at={day: pending_at(calculator, day, eoir) for day in days},
    )
    if _code_occurs(calculator, TERMINATION_CODES):
        extra.terminations = basis_tables(calculator, terminations_method(calculator.method))
    try:
        extra.by_nationality = pending_at_start_by_nationality(calculator)
    except ReleaseError as error:
        extra.nationality_note = str(error)
    else:
        if not calculator.ingest.has_lookup(release_format.NATIONALITY_TABLE):
            extra.nationality_note = (
                f"{release_format.NATIONALITY_TABLE} is missing from this release: nationalities match by NAT code only"
            )
    return extra


def _code_occurs(calculator: RateCalculator, codes: tuple[str, ...]) -> bool:
    """Whether any proceeding of the release has one of these OTHER_COMP codes (later releases have
    no I: a count of terminations would be zero for want of the code, not of terminations)."""
    sql = f"SELECT count(*) FROM proceedings WHERE OTHER_COMP IN ({definition.sql_list(codes)})"
    return calculator.con.execute(sql).fetchone()[0] > 0


def sensitivity(
    ingest: IngestResult, window: Window, method: Method = Method(), calculator: RateCalculator | None = None
) -> pd.DataFrame:
    """The national rate for the window under each definition; the default row is national.csv's.

    An alternative the release cannot count (pd-dismissals where the decision lookup has no
    dismissal rows) is left out, with a warning that says why. A calculator the caller already has for
    this window and method is used (and left open), rather than a second one built."""
    rows = []
    owned = calculator is None
    calculator = calculator or RateCalculator(ingest, window, method)
    try:
        for alternative in sensitivity_definitions(calculator.method):
            try:
                result = (
                    pending_at_start(calculator, alternative.method)
                    if alternative.denominator == PENDING
                    else calculator.national_for(alternative.method)
                )
            except ReleaseError as error:
                warnings.warn(f"sensitivity: {alternative.label} left out: {error}", stacklevel=2)
                continue
            row = result.iloc[0].to_dict()
            row.update(
                definition=alternative.name,
                is_default=alternative.is_default,
                label=alternative.label,
                denominator=DENOMINATORS.get(alternative.denominator, alternative.denominator),
                description=alternative.description(),
            )
            rows.append(row)
    finally:
        if owned:
            calculator.con.close()
    frame = pd.DataFrame(rows)
    for column in ("pd_closures", "completions"):
        frame[column] = frame[column].astype("int64")
    return frame[SENSITIVITY_COLUMNS]


def write_sensitivity(frame: pd.DataFrame, processed_dir: str | Path) -> Path:
    return write_tables({"sensitivity": frame}, processed_dir)[0]


def closest_definition(frame: pd.DataFrame, published_pct: float) -> pd.Series | None:
    """The definition whose rate (in percent) is nearest a published percentage (EOIR's completions
    basis aside: it is there for its total)."""
    rated = frame[frame["pd_rate"].notna() & (frame["denominator"] != EOIR_DENOMINATOR)]
    if not len(rated):
        return None
    distance = (rated["pd_rate"] * 100 - published_pct).abs()
    return rated.loc[distance.idxmin()]


# --------------------------------------------------------------------------------------------
# When the PD codes appear


def pd_code_first_months(ingest: IngestResult, codes: tuple[str, ...] = definition.PD_CODES_DEFAULT) -> pd.DataFrame:
    """Per fiscal year (by COMP_DATE), the first month each PD code closes a proceeding, and how many.

    One row per fiscal year from the first in which any of the codes appears to the last fiscal
    year with any completion; columns <code>_first_month (YYYY-MM, empty if none that year) and
    <code>_closures.
    """
    con = duckdb.connect()
    try:  # counted from the monthly completions table (rows with a valid COMP_DATE)
        load_monthly(con, ingest)
        fy = definition.fiscal_year_sql("COMP_MONTH")
        found = con.execute(f"""
            SELECT {fy} AS fiscal_year, OTHER_COMP AS code, strftime(min(COMP_MONTH), '%Y-%m') AS first_month,
                   sum(completions)::BIGINT AS closures
            FROM monthly WHERE {definition.is_pd_sql(Method(pd_codes=codes))} GROUP BY ALL""").df()
        last = con.execute(f"SELECT max({fy}) FROM monthly").fetchone()[0]
    finally:
        con.close()
    columns = ["fiscal_year"] + [f"{c}_{k}" for c in codes for k in ("first_month", "closures")]
    if not len(found):
        return pd.DataFrame(columns=columns)
    frame = pd.DataFrame({"fiscal_year": range(int(found["fiscal_year"].min()), int(last) + 1)})
    for code in codes:
        part = found[found["code"] == code].set_index("fiscal_year")
        frame[f"{code}_first_month"] = [part["first_month"].get(y, "") for y in frame["fiscal_year"]]
        frame[f"{code}_closures"] = [int(part["closures"].get(y, 0)) for y in frame["fiscal_year"]]
    return frame[columns]


def pd_code_lookup(ingest: IngestResult, codes: tuple[str, ...] = definition.PD_CODES_DEFAULT) -> pd.DataFrame:
    """The PD codes' rows in tblLookupCourtDecision (strDecType 'O'): meaning, case types, datCreatedOn."""
    lookup = pd.read_parquet(ingest.lookup_path(release_format.DECISION_TABLE))
    rows = lookup[(lookup["strDecType"] == "O") & lookup["strDecCode"].isin(codes)].copy()
    rows["created"] = rows["datCreatedOn"].astype(str).str.slice(0, 10)
    out = []
    for code in codes:
        part = rows[rows["strDecCode"] == code]
        out.append(
            {
                "code": code,
                "description": "; ".join(dict.fromkeys(part["strDecDescription"].astype(str))) or "(not in the lookup)",
                "case_types": ", ".join(sorted(set(part["strCaseType"].astype(str)))),
                "active": ", ".join(sorted(set(part["blnActive"].astype(str)))),
                "first_created": min((c for c in part["created"] if c), default=""),
            }
        )
    return pd.DataFrame(out)
