"""Checks a run against TRAC's published figures, and shows how much the definition matters.

Published-figure comparison (``validation.csv``)
    Every figure in data/reference/trac_published.csv is listed. A figure is computable when the
    run has its exact window: the run's window (national.csv, courts.csv), a fiscal year or clipped
    fiscal year of the run (fiscal_years.csv), or whole calendar months inside the run's window
    (summed from months.csv; national figures only). Each computable figure passes or fails by the
    rule its published precision implies (see ``check``); the rest are "not computable".

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
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pandas as pd

from . import definition, release_format
from .definition import Method, Window
from .errors import ReleaseError
from .ingest import IngestResult
from .rates import RATE_COLUMNS, RateCalculator, load_monthly, write_tables

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PUBLISHED_PATH = PROJECT_ROOT / "data" / "reference" / "trac_published.csv"
PUBLISHED_COLUMNS = ["source", "url", "published", "window_start", "window_end", "geography", "metric", "value", "note"]

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
]

# "About 30 percent": read as rounded to the nearest 5 points, so anything from 27.5 to 32.5 passes.
APPROX_TOLERANCE_POINTS = 2.5
# Floating-point slack, so that a value exactly half a unit away (6.65 vs 6.7) is not lost to binary.
EPSILON = 1e-9

# Quantities a published metric can name, and which counts they are computed from.
COUNT_QUANTITIES = {"pd_closures", "all_closures", "pending_at_start"}
RATE_QUANTITIES = {"pd_rate_pct", "pd_rate_pct_of_pending"}
PENDING_QUANTITIES = {"pending_at_start", "pd_rate_pct_of_pending"}
FORMS = ("approx", "range")

SENSITIVITY_COLUMNS = ["definition", "is_default", "label", "denominator", "start", "end", *RATE_COLUMNS, "description"]
PD_CODE_SETS = (("Y",), ("Y", "M"), ("Y", "M", "I"))
PENDING = "pending_at_start"


# --------------------------------------------------------------------------------------------
# Published figures


def load_published(path: str | Path | None = None) -> pd.DataFrame:
    """The table of TRAC's published figures, every column as text (values like '3-4' stay text)."""
    path = Path(path) if path is not None else PUBLISHED_PATH
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    missing = [c for c in PUBLISHED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
    for row in frame.itertuples():
        parse_metric(row.metric)
        dt.date.fromisoformat(row.window_start), dt.date.fromisoformat(row.window_end)
    return frame[PUBLISHED_COLUMNS]


def parse_metric(metric: str) -> tuple[str, str]:
    """'pd_rate_pct_range' -> ('pd_rate_pct', 'range'); 'pd_closures' -> ('pd_closures', 'exact')."""
    for form in FORMS:
        if metric.endswith("_" + form):
            quantity = metric[: -len(form) - 1]
            if quantity in RATE_QUANTITIES:
                return quantity, form
    if metric in COUNT_QUANTITIES or metric in RATE_QUANTITIES:
        return metric, "exact"
    raise ValueError(
        f"unknown metric {metric!r} (known: {', '.join(sorted(COUNT_QUANTITIES | RATE_QUANTITIES))}, "
        "and rates with _approx or _range)"
    )


def check(metric: str, published_value: str, computed: float | None) -> tuple[str, float, str]:
    """Pass or fail one computed value against one published figure: (status, difference, tolerance).

    - counts (pd_closures, all_closures, pending_at_start): exact equality;
    - a percentage as published (6.7, 7.0, 30): passes if the computed percentage rounds to it,
      |computed - published| <= half a unit of the last published digit (0.05 for one decimal);
    - _approx ("about 30"): within APPROX_TOLERANCE_POINTS (2.5) points;
    - _range "3-4": passes if the computed percentage, rounded to one decimal, lies in [3, 4];
      a range from 0 ("0-3", TRAC's "less than three percent") passes if computed < 3.
    difference is computed - published; for a range, the distance outside it (0 inside).
    A missing computed value (no completions) fails.
    """
    quantity, form = parse_metric(metric)
    text = str(published_value).strip()
    if form == "range":
        low, high = _parse_range(text)
        tolerance = f"< {_fmt(high)}" if low == 0 else f"rounds to one decimal within [{_fmt(low)}, {_fmt(high)}]"
    elif form == "approx":
        low = high = float(text)
        tolerance = f"±{_fmt(APPROX_TOLERANCE_POINTS)} points ('about')"
    elif quantity in COUNT_QUANTITIES:
        low = high = float(text)
        tolerance = "exact"
    else:
        low = high = float(text)
        decimals = len(text.split(".")[1]) if "." in text else 0
        half_unit = 0.5 * 10**-decimals
        tolerance = f"±{half_unit:.{decimals + 1}f} points (published to {decimals} decimal{'s' * (decimals != 1)})"
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
    else:
        difference = computed - low
        if form == "approx":
            ok = abs(difference) <= APPROX_TOLERANCE_POINTS + EPSILON
        elif quantity in COUNT_QUANTITIES:
            ok = computed == low
        else:
            ok = abs(difference) <= half_unit + EPSILON
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

    def value(self, quantity: str) -> float:
        if quantity in ("pd_closures",):
            return float(self.pd_closures)
        if quantity in ("all_closures", "pending_at_start"):
            return float(self.completions)
        return 100.0 * self.pd_closures / self.completions if self.completions else float("nan")


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
) -> pd.DataFrame:
    """Every published figure beside its computed value, with difference, tolerance and status.

    national, courts, fiscal_years and months are shaped like the rates stage's CSVs (only the
    key columns and pd_closures, completions are read); pending is the sensitivity row of the
    pending-at-start definition (pd_closures over the proceedings pending at the window's start).
    restricted_courts: the run's courts parameter; national figures then cannot be computed.
    """
    rows = []
    for figure in published.to_dict("records"):
        quantity, _ = parse_metric(figure["metric"])
        counts, detail = _find_counts(
            figure, quantity, window, national, courts, fiscal_years, months, pending, restricted_courts
        )
        row = {
            **{
                k: figure[k]
                for k in ["source", "url", "published", "window_start", "window_end", "geography", "metric", "note"]
            },
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
            computed = counts.value(quantity)
            status, difference, tolerance = check(figure["metric"], figure["value"], computed)
            if math.isnan(computed):
                detail = f"no completions in {counts.basis}"
            row.update(
                computed_value=computed,
                difference=difference,
                tolerance=tolerance,
                status=status,
                basis=counts.basis,
                detail=detail,
            )
        rows.append(row)
    return pd.DataFrame(rows, columns=VALIDATION_COLUMNS)


def _find_counts(figure, quantity, window, national, courts, fiscal_years, months, pending, restricted_courts):
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
        if quantity in PENDING_QUANTITIES:
            if pending is None or len(pending) == 0:
                return None, "pending-at-start counts not given"
            # The backlog at the start depends on the start only; its PD share on the whole window.
            fits = start == window.start if quantity == "pending_at_start" else same_window
            if not fits:
                return None, not_this_window
            row = pending if isinstance(pending, dict) else pending.iloc[0].to_dict()
            return Counts(
                int(row["pd_closures"]),
                int(row["completions"]),
                f"sensitivity.csv {PENDING} (pending at {window.start})",
            ), ""
        if same_window:
            row = national.iloc[0]
            return Counts(int(row["pd_closures"]), int(row["completions"]), "national.csv"), ""
        if fiscal_years is not None and len(fiscal_years):
            match = fiscal_years[
                (fiscal_years["period_start"].astype(str) == start.isoformat())
                & (fiscal_years["period_end"].astype(str) == end.isoformat())
            ]
            if len(match):
                row = match.iloc[0]
                fy = int(row["fiscal_year"])
                partial = " (part in window)" if _truthy(row.get("partial", False)) else ""
                return Counts(int(row["pd_closures"]), int(row["completions"]), f"fiscal_years.csv FY{fy}{partial}"), ""
        if months is not None and len(months) and _whole_months_inside(start, end, window):
            wanted = [p.strftime("%Y-%m") for p in pd.period_range(start, end, freq="M")]
            match = months[months["month"].astype(str).isin(wanted)]
            if len(match) == len(wanted):
                label = wanted[0] if len(wanted) == 1 else f"{wanted[0]}..{wanted[-1]}"
                return Counts(
                    int(match["pd_closures"].sum()), int(match["completions"].sum()), f"months.csv {label}"
                ), ""
        return None, not_this_window
    if geography.startswith("court:"):
        code = geography.split(":", 1)[1].strip().upper()
        if restricted_courts and code not in restricted_courts:
            return None, f"run restricted to courts {', '.join(restricted_courts)}"
        if quantity in PENDING_QUANTITIES:
            return None, "pending-at-start figures are computed nationally only"
        if not same_window:
            return None, not_this_window
        if courts is None:
            return None, "courts.csv not given"
        match = courts[courts["base_city_code"].astype(str) == code]
        if not len(match):
            return Counts(0, 0, f"courts.csv {code}"), ""
        row = match.iloc[0]
        return Counts(int(row["pd_closures"]), int(row["completions"]), f"courts.csv {code}"), ""
    return None, f"unknown geography {geography!r}"


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
    )


def format_validation(frame: pd.DataFrame) -> pd.DataFrame:
    """Values as text for the CSV: counts as whole numbers, percentages to three decimals."""
    out = frame.copy()
    is_count = [parse_metric(m)[0] in COUNT_QUANTITIES for m in out["metric"]]
    for column in ("computed_value", "difference"):
        out[column] = [
            ("" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.0f}" if count else f"{v:.3f}")
            for v, count in zip(out[column], is_count)
        ]
    return out


def for_reading(frame: pd.DataFrame) -> pd.DataFrame:
    """published_value, computed_value and difference as a reader expects them: counts with thousands
    separated ("16,306"), percentages with a % sign ("about 30%", "3–4%", "6.80%"), differences of
    percentages in points. For notebooks and the report; validation.csv keeps format_validation's."""
    out = frame.copy()
    published, computed, difference = [], [], []
    for metric, value, got, diff in zip(
        out["metric"], out["published_value"], out["computed_value"], out["difference"]
    ):
        quantity, form = parse_metric(metric)
        missing = got is None or math.isnan(got)
        if quantity in COUNT_QUANTITIES:
            published.append(f"{int(float(value)):,}")
            computed.append("" if missing else f"{got:,.0f}")
            difference.append("" if missing else f"{diff:+,.0f}")
            continue
        if form == "range":
            low, high = _parse_range(value)
            published.append(f"under {_fmt(high)}%" if low == 0 else f"{_fmt(low)}–{_fmt(high)}%")
        else:
            published.append(f"about {value}%" if form == "approx" else f"{value}%")
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
    denominator: str = "completions"  # or PENDING
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
    add(
        "basis=eoir-completions",
        "EOIR's completions basis (decisions only; RMV, DEP, EXC, AOC, WHO)",
        definition.eoir_completions(method),
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


def sensitivity(ingest: IngestResult, window: Window, method: Method = Method()) -> pd.DataFrame:
    """The national rate for the window under each definition; the default row is national.csv's.

    An alternative the release cannot count (pd-dismissals where the decision lookup has no
    dismissal rows) is left out, with a warning that says why."""
    rows = []
    calculator = RateCalculator(ingest, window, method)
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
                denominator="proceedings pending at start" if alternative.denominator == PENDING else "completions",
                description=alternative.description(),
            )
            rows.append(row)
    finally:
        calculator.con.close()
    frame = pd.DataFrame(rows)
    for column in ("pd_closures", "completions"):
        frame[column] = frame[column].astype("int64")
    return frame[SENSITIVITY_COLUMNS]


def write_sensitivity(frame: pd.DataFrame, processed_dir: str | Path) -> Path:
    return write_tables({"sensitivity": frame}, processed_dir)[0]


def closest_definition(frame: pd.DataFrame, published_pct: float) -> pd.Series | None:
    """The definition whose rate (in percent) is nearest a published percentage."""
    rated = frame[frame["pd_rate"].notna()]
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
