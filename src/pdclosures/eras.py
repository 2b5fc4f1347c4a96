"""PD across eras: the long view of a release, the policy dates, and the guard for windows where the
run's PD codes were not in use.

What counted as PD changed over the years (docs/methodology.md, "PD across eras"): Y/M (and older I)
administrative closures from FY2012 to January 2017; fewer than 100 a month from February 2017 to
May 2021; dismissals (DEC_CODE) from June 2021 to January 2025. So:

- long_run() counts PD per month under each definition over the whole release, whatever the run's
  window (long_run.csv, figure 08_long_run), so a user sees which definition fits which years;
- guard() warns, in one line, when the run's definition averages fewer than `min_pd_per_month` PD
  closures a month in the window (TRAC report 474's line: fewer than 100 a month), instead of letting
  a near-zero rate pass as a finding, and suggests pd-dismissals for windows after May 2021;
- the warnings of a run are written once (warnings.json, by notebook 02) and read by run.json, the
  runner's output, the report and the figures' footer.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
from pathlib import Path

import pandas as pd

from . import definition, params
from .definition import Method, Window
from .errors import ReleaseError
from .rates import RateCalculator, add_rates

log = logging.getLogger(__name__)

POLICY_DATES = Path(__file__).resolve().parents[2] / "data" / "reference" / "policy_dates.csv"
LONG_RUN_COLUMNS = ["month", "definition", "pd_closures", "completions", "pd_rate", "ci_low", "ci_high"]
WARNINGS_FILE = "warnings.json"
NOT_A_FINDING = "Not a finding"  # opens a warned run's headline (report) and its figures' titles

DAYS_PER_MONTH = 365.2425 / 12
# From June 2021 ICE's attorneys moved to dismiss cases as PD (Trasviña memo, 2021-05-27): dismissals,
# which pd-closures does not count.
DISMISSALS_FROM = dt.date(2021, 6, 1)


@dataclasses.dataclass(frozen=True)
class Era:
    """Years in which PD shows in the release one way (docs/methodology.md, "PD across eras")."""

    start: dt.date
    end: dt.date
    name: str
    short: str  # its name on figure 08


ERAS = (
    Era(dt.date(2011, 10, 1), dt.date(2017, 1, 31), "PD closures (OTHER_COMP Y, M, I)", "PD closures"),
    Era(dt.date(2017, 2, 1), dt.date(2021, 5, 31), "PD barely used (< 100 a month)", "PD barely used"),
    Era(DISMISSALS_FROM, dt.date(2025, 1, 31), "PD as dismissals (DEC_CODE)", "PD as dismissals"),
    Era(dt.date(2025, 2, 1), dt.date(2099, 12, 31), "PD guidance revoked", "revoked"),
)


def read_policy_dates(path: Path = POLICY_DATES) -> pd.DataFrame:
    """The editable table of policy dates (date,label,source_url), by date; empty, with a warning, if the
    file is absent."""
    if not Path(path).is_file():
        log.warning("%s not found: no policy dates drawn", path)
        return pd.DataFrame({"date": pd.to_datetime(pd.Series([], dtype=str)), "label": [], "source_url": []})
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["date"] = pd.to_datetime(frame["date"], format="%Y-%m-%d")
    return frame.sort_values("date", kind="mergesort").reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# The long view: every month of the release, under each definition


def release_window(manifest: dict) -> Window | None:
    """Whole months from the release's first to its last completion month (None: no completion dates)."""
    span = params.completion_span(manifest)
    if span is None:
        return None
    first, last = span
    after = dt.date(last.year + last.month // 12, last.month % 12 + 1, 1)
    return Window(first.replace(day=1), after - dt.timedelta(days=1))


def methods_for_each_definition(method: Method) -> dict[str, Method]:
    """The run's method under each definition, counting proceedings (the long view is about which codes
    were in use; proceedings come from the monthly table in a fraction of a second)."""
    return {
        name: dataclasses.replace(method, definition=name, dismissals=(), unit="proceeding")
        for name in definition.DEFINITIONS
    }


def long_run(ingest, methods: dict[str, Method]) -> pd.DataFrame:
    """long_run.csv: PD closures, completions and the rate per month under each method (by definition),
    every month from the release's first to its last completion month.

    A definition this release cannot count (pd-dismissals without the decision lookup's C rows) is left
    out, its one-line reason in the frame's attrs["skipped"]: the run's own definition has been counted
    already, and the long view is no reason to fail it."""
    window = release_window(ingest.manifest)
    frames, skipped = [], {}
    for name, method in methods.items() if window is not None else ():
        try:
            frames.append(RateCalculator(ingest, window, method).months().assign(definition=name)[LONG_RUN_COLUMNS])
        except ReleaseError as error:
            skipped[name] = str(error)
    if not frames:
        frame = pd.DataFrame(columns=LONG_RUN_COLUMNS)
    else:
        order = {name: i for i, name in enumerate(methods)}
        frame = pd.concat(frames, ignore_index=True).sort_values(
            ["month", "definition"], key=lambda c: c.map(order) if c.name == "definition" else c
        )
    frame = frame.reset_index(drop=True)
    frame.attrs["skipped"] = skipped
    return frame


def read_long_run(processed_dir) -> pd.DataFrame:
    path = Path(processed_dir) / "long_run.csv"
    frame = pd.read_csv(path, dtype={"month": str, "definition": str})
    return frame[LONG_RUN_COLUMNS]


# --------------------------------------------------------------------------------------------
# The guard


def pd_threshold(min_pd_per_month: float, scale: float) -> float:
    """The guard's line for this release: min_pd_per_month, divided by a synthetic sample's scale."""
    return min_pd_per_month / scale


def months_covered(window: Window, manifest: dict) -> float:
    """Months (of average length) of the window that the release's completion dates cover."""
    span = params.completion_span(manifest)
    if span is None:
        return 0.0
    start, end = max(window.start, span[0]), min(window.end, span[1])
    return max(0, (end - start).days + 1) / DAYS_PER_MONTH


def guard(
    pd_closures: int, window: Window, definition_name: str, min_pd_per_month: float, manifest: dict, scale: float = 1.0
) -> list[str]:
    """One-line warnings about the run's definition in its window (empty when it fits):
    - fewer PD closures a month than min_pd_per_month (divided by a synthetic sample's scale, the real
      proceedings one of its proceedings stands for: IngestResult.scale): the codes were not in use,
      and the near-zero rate is no finding;
    - a window reaching past May 2021 counted with pd-closures misses PD done by dismissal."""
    months = months_covered(window, manifest)
    if months <= 0:
        return []  # no completions in the window at all: params.coverage_warning says so
    late = definition_name == "pd-closures" and window.end >= DISMISSALS_FROM
    per_month = pd_closures / months
    line = pd_threshold(min_pd_per_month, scale)
    if per_month < line:
        if scale != 1:
            against = (
                f"fewer than {line:g} a month: TRAC's line of {min_pd_per_month:g} (min_pd_per_month) divided by "
                f"{scale:g}, as the synthetic sample is a 1:{scale:g} model"
            )
        else:
            against = f"fewer than {line:g} a month, TRAC's line (min_pd_per_month)"
        advice = (
            "rerun with DEFINITION=pd-dismissals"
            if late
            else "choose a window or definition where PD was in use (long_run.csv, figure 08_long_run)"
        )
        return [
            f"warning: {per_month:.1f} PD closures a month under {definition_name} in {window} ({against}): "
            f"these codes were barely in use, so the rate is not a finding; {advice}"
        ]
    if late:
        return [
            f"warning: the window {window} reaches past May 2021, when ICE's PD moved to dismissals (DEC_CODE), "
            "which pd-closures does not count; rerun with DEFINITION=pd-dismissals (see figure 08_long_run)"
        ]
    return []


def run_warnings(run: params.Run, ingest, calculator: RateCalculator) -> list[str]:
    """Every warning about a run's numbers: the window outside the release's dates, and the guard.

    The guard counts PD in every court (a court restriction is no sign that the codes were unused)."""
    found = []
    coverage = params.coverage_warning(run.window, ingest.manifest)
    if coverage:
        found.append(coverage)
    everywhere = dataclasses.replace(calculator.method, courts=None)
    pd_closures = int(calculator.national_for(everywhere)["pd_closures"].iloc[0])
    found += guard(pd_closures, run.window, run.method.definition, run.min_pd_per_month, ingest.manifest, ingest.scale)
    return found


def write_warnings(warnings: list[str], processed_dir) -> Path:
    path = Path(processed_dir) / WARNINGS_FILE
    path.write_text(json.dumps(list(warnings), indent=2) + "\n")
    return path


def read_warnings(processed_dir) -> list[str]:
    """The run's warnings as notebook 02 wrote them; none for a run without the file."""
    try:
        return list(json.loads((Path(processed_dir) / WARNINGS_FILE).read_text()))
    except (OSError, ValueError, TypeError):
        return []


def era_summary(long_run_table: pd.DataFrame) -> pd.DataFrame:
    """long_run.csv summed per era and definition: the months of the era in the release, PD closures a
    month on average, and the rate over the era (the short form of figure 08)."""
    rows = []
    months = pd.to_datetime(long_run_table["month"], format="%Y-%m").dt.date
    for era in ERAS:
        inside = long_run_table[(months >= era.start.replace(day=1)) & (months <= era.end)]
        for name, frame in inside.groupby("definition", sort=False):
            rows.append(
                {
                    "era": era.name,
                    "from": frame["month"].min(),
                    "to": frame["month"].max(),
                    "definition": name,
                    "pd_closures_a_month": round(frame["pd_closures"].sum() / len(frame), 1),
                    "pd_closures": int(frame["pd_closures"].sum()),
                    "completions": int(frame["completions"].sum()),
                }
            )
    columns = ["era", "from", "to", "definition", "pd_closures_a_month", "pd_closures", "completions"]
    return add_rates(pd.DataFrame(rows, columns=columns))
