"""Run parameters: defaults, presets in params/*.yaml, and checks that fail before any work.

papermill hands parameters over as Python literals; YAML turns an unquoted 2012-10-01 into a date.
Everything here accepts either form and hands the notebooks plain strings, so dates survive.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import schema
from .errors import ParameterError

UNITS = ("proceeding", "case")  # what a rate counts: proceedings, or cases (IDNCASE) once each


@dataclass(frozen=True)
class Window:
    """Completion dates from start to end, both inclusive."""

    start: dt.date
    end: dt.date

    def months(self) -> list[str]:
        """'YYYY-MM' of every month the window touches."""
        first, last = self.start.year * 12 + self.start.month - 1, self.end.year * 12 + self.end.month - 1
        return [f"{index // 12:04d}-{index % 12 + 1:02d}" for index in range(first, last + 1)]

    def fiscal_years(self) -> list[int]:
        return list(range(fiscal_year(self.start), fiscal_year(self.end) + 1))

    def whole_months(self) -> bool:
        """True when the window starts on a month's first day and ends on a month's last day."""
        return self.start.day == 1 and (self.end + dt.timedelta(days=1)).day == 1


@dataclass(frozen=True)
class Method:
    """Which completions count, and which of them are PD closures."""

    pd_codes: tuple[str, ...] = schema.PD_CODES_DEFAULT
    excluded_codes: tuple[str, ...] = schema.NEW_PROCEEDING_CODES_DEFAULT
    case_types: tuple[str, ...] | None = None  # None: all case types
    unit: str = "proceeding"
    courts: tuple[str, ...] | None = None  # None: every court

    def describe(self) -> str:
        parts = [f"PD closure = OTHER_COMP in {{{', '.join(self.pd_codes)}}}"]
        if self.excluded_codes:
            parts.append(f"completions exclude OTHER_COMP {', '.join(self.excluded_codes)}")
        parts.append("all case types" if self.case_types is None else f"case types {', '.join(self.case_types)}")
        parts.append(f"unit: {self.unit}")
        if self.courts:
            parts.append(f"courts {', '.join(self.courts)} only")
        return "; ".join(parts)


def fiscal_year(day: dt.date) -> int:
    """The federal fiscal year: FY2013 runs from 2012-10-01 to 2013-09-30."""
    return day.year + (day.month >= 10)


SAMPLE_RELEASE = "data/sample/eoir_synthetic_sample.zip"

# Every parameter a run takes, with its default. The notebooks' parameters cells mirror these.
DEFAULTS = {
    "release": SAMPLE_RELEASE,
    "start": "2012-10-01",  # TRAC's April 2014 bulletin window
    "end": "2014-03-31",
    "run": "",  # empty: named after the preset or the window
    "pd_codes": ",".join(schema.PD_CODES_DEFAULT),
    "excluded_codes": ",".join(schema.NEW_PROCEEDING_CODES_DEFAULT),
    "case_types": "all",
    "unit": "proceeding",
    "min_completions": 100,
    "courts": "",  # empty: all courts; else BASE_CITY_CODEs (e.g. "SEA,TUC") to restrict the run to
}

# OTHER_COMP codes that occur in the release (tblLookupCourtDecision, strDecType 'O').
KNOWN_OTHER_COMP_CODES = set("ACFHIKMOPRTWXY")
KNOWN_CASE_TYPES = {"RMV", "DEP", "EXC", "CFR", "WHO", "RFR", "AOC", "REC", "CSR", "NAC", "CDR", "AOL", "DCC"}
_RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def coverage_warning(window: Window, manifest: dict) -> str | None:
    """A warning when the window misses the release's completion dates entirely (all counts zero)."""
    first, last = manifest.get("data_from"), manifest.get("data_through")
    if first is None or last is None:
        return "warning: the release has no valid completion dates; every count is zero"
    if window.end < dt.date.fromisoformat(first) or window.start > dt.date.fromisoformat(last):
        return (f"warning: the window {window.start}..{window.end} lies outside the release's completion "
                f"dates ({first}..{last}); every count is zero")
    return None


def load_preset(path: str | Path) -> dict:
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"PARAMS={path}: preset file not found (see params/ for presets)")
    try:
        values = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as error:
        raise ParameterError(f"PARAMS={path}: not valid YAML ({str(error).splitlines()[0]})") from None
    if not isinstance(values, dict):
        raise ParameterError(f"PARAMS={path}: expected 'name: value' lines")
    unknown = sorted(set(values) - set(DEFAULTS) - {"description"})
    if unknown:
        raise ParameterError(f"PARAMS={path}: unknown parameter {', '.join(unknown)} (known: {', '.join(DEFAULTS)})")
    values.pop("description", None)
    return values


def resolve(preset: str | Path | None = None, **overrides) -> dict:
    """Defaults, then the preset, then explicit values (empty ones ignored), all as plain strings."""
    values = dict(DEFAULTS)
    if preset:
        values.update(load_preset(preset))
    values.update({k: v for k, v in overrides.items() if v not in (None, "")})
    values = {k: as_text(v) if k != "min_completions" else v for k, v in values.items()}
    if not values["run"]:
        if preset:
            values["run"] = Path(preset).stem
        elif (values["start"], values["end"]) == (DEFAULTS["start"], DEFAULTS["end"]):
            values["run"] = "default"
        else:
            values["run"] = f"{values['start']}_to_{values['end']}"
    validate(values)
    values["min_completions"] = parse_min_completions(values["min_completions"])
    return values


def as_text(value) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def parse_date(value, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ParameterError(f"{name}={value!r}: not a date; use YYYY-MM-DD, e.g. 2012-10-01") from None


def parse_window(start, end) -> Window:
    window = Window(parse_date(start, "START"), parse_date(end, "END"))
    if window.end < window.start:
        raise ParameterError(f"END={window.end} is before START={window.start}")
    return window


def parse_codes(value, name: str, known: set[str], allow_empty: bool = True) -> tuple[str, ...]:
    codes = tuple(dict.fromkeys(c.strip().upper() for c in as_text(value).split(",") if c.strip()))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ParameterError(f"{name}: unknown code {', '.join(unknown)} (known: {', '.join(sorted(known))})")
    if not codes and not allow_empty:
        raise ParameterError(f"{name}: give at least one code")
    return codes


def parse_min_completions(value) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ParameterError(f"min_completions={value!r}: not a whole number") from None
    if number < 0:
        raise ParameterError(f"min_completions={number}: must be 0 or more")
    return number


def parse_courts(value) -> tuple[str, ...] | None:
    codes = tuple(dict.fromkeys(c.strip().upper() for c in as_text(value).split(",") if c.strip()))
    bad = [c for c in codes if not re.fullmatch(r"[A-Z0-9]{2,4}", c)]
    if bad:
        raise ParameterError(f"courts: {', '.join(bad)} is not a base-city code such as SEA")
    return codes or None


def parse_method(pd_codes, excluded_codes, case_types, unit, courts="") -> Method:
    pd = parse_codes(pd_codes, "pd_codes", KNOWN_OTHER_COMP_CODES, allow_empty=False)
    excluded = parse_codes(excluded_codes, "excluded_codes", KNOWN_OTHER_COMP_CODES)
    overlap = sorted(set(pd) & set(excluded))
    if overlap:
        raise ParameterError(f"pd_codes and excluded_codes both contain {', '.join(overlap)}")
    types = None if as_text(case_types).strip().lower() in ("", "all") else \
        parse_codes(case_types, "case_types", KNOWN_CASE_TYPES, allow_empty=False)
    if str(unit) not in UNITS:
        raise ParameterError(f"unit={unit!r}: use one of {', '.join(UNITS)}")
    return Method(pd_codes=pd, excluded_codes=excluded, case_types=types, unit=str(unit),
                  courts=parse_courts(courts))


def validate(values: dict) -> None:
    """Check every parameter before any work, so a typo costs seconds, not an ingest."""
    parse_window(values["start"], values["end"])
    parse_method(values["pd_codes"], values["excluded_codes"], values["case_types"], values["unit"], values["courts"])
    parse_min_completions(values["min_completions"])
    if not _RUN_NAME.match(values["run"]):
        raise ParameterError(f"RUN={values['run']!r}: use letters, digits, '.', '_' or '-' (no spaces or slashes)")
