"""Run parameters: defaults, presets in params/*.yaml, checks that fail before any work, and Run.

papermill hands parameters over as Python literals; YAML turns an unquoted 2012-10-01 into a date.
Everything here accepts either form. resolve() gives the runner plain strings (so dates survive the
trip into a notebook); Run.from_parameters() gives a notebook its parsed run in one call.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import definition, release_format
from .definition import UNITS, Method, Window
from .errors import ParameterError

SAMPLE_RELEASE = "data/sample/eoir_synthetic_sample.zip"  # relative to the project root

# Every parameter a run takes, with its default. The notebooks' parameters cells mirror these.
DEFAULTS = {
    "release": SAMPLE_RELEASE,
    "start": "2012-10-01",  # TRAC's April 2014 bulletin window
    "end": "2014-03-31",
    "run": "",  # empty: named after the preset or the window
    "pd_codes": ",".join(definition.PD_CODES_DEFAULT),
    "excluded_codes": ",".join(definition.NEW_PROCEEDING_CODES_DEFAULT),
    "case_types": "all",
    "unit": "proceeding",
    "min_completions": 100,
    "courts": "",  # empty: all courts; else BASE_CITY_CODEs (e.g. "SEA,TUC") to restrict the run to
    "definition": definition.PD_CLOSURES,  # how a PD closure is counted: definition.DEFINITIONS
    "dismissal_codes": "",  # pd-dismissals: empty decodes them from the lookup; else U, or RMV:U,DEP:D
    # The guard (eras.guard): fewer PD closures a month in the window warns. TRAC report 474: PD closures
    # fell to "fewer than 100 a month" from February 2017; below it a rate says nothing about courts.
    "min_pd_per_month": 100,
}
# Parameters that are numbers, not text.
NUMBERS = ("min_completions", "min_pd_per_month")

_RUN_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")


def completion_span(manifest: dict) -> tuple[dt.date, dt.date] | None:
    """The release's first and last valid completion dates, as ingest.json records them (None: none)."""
    first, last = manifest.get("data_from"), manifest.get("data_through")
    if not first or not last:
        return None
    return dt.date.fromisoformat(first), dt.date.fromisoformat(last)


def coverage_warning(window: Window, manifest: dict) -> str | None:
    """A warning when the window misses the release's completion dates entirely (all counts zero)."""
    span = completion_span(manifest)
    if span is None:
        return "warning: the release has no valid completion dates; every count is zero"
    first, last = span
    if window.end < first or window.start > last:
        return (
            f"warning: the window {window.start}..{window.end} lies outside the release's completion "
            f"dates ({first}..{last}); every count is zero"
        )
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
    """Defaults, then the preset, then explicit values (empty ones ignored), all as plain strings
    but min_completions, checked."""
    values = _merged(preset, overrides)
    values["min_completions"] = _parsed(values)[2]
    values["min_pd_per_month"] = parse_min_pd_per_month(values["min_pd_per_month"])
    return values


def _merged(preset, overrides: dict, keep_empty: bool = False) -> dict:
    """keep_empty: an empty override is a value (excluded_codes="" excludes nothing), not "unset"."""
    values = dict(DEFAULTS)
    if preset:
        values.update(load_preset(preset))
    values.update({k: v for k, v in overrides.items() if v is not None and (keep_empty or v != "")})
    values = {k: as_text(v) if k not in NUMBERS else v for k, v in values.items()}
    if not values["run"]:
        if preset:
            values["run"] = Path(preset).stem
        elif (values["start"], values["end"]) == (DEFAULTS["start"], DEFAULTS["end"]):
            values["run"] = "default"
        else:
            values["run"] = f"{values['start']}_to_{values['end']}"
    return values


def _parsed(values: dict) -> tuple[Window, Method, int]:
    """Check every parameter before any work, so a typo costs seconds, not an ingest."""
    window = parse_window(values["start"], values["end"])
    method = parse_method(
        values["pd_codes"],
        values["excluded_codes"],
        values["case_types"],
        values["unit"],
        values["courts"],
        values["definition"],
        values["dismissal_codes"],
    )
    min_completions = parse_min_completions(values["min_completions"])
    if not _RUN_NAME.match(values["run"]):
        raise ParameterError(f"RUN={values['run']!r}: use letters, digits, '.', '_' or '-' (no spaces or slashes)")
    return window, method, min_completions


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


def parse_count(value, name: str, unit: str = "", zero: str = "") -> int:
    """A whole number of 0 or more for the parameter `name`; unit and zero, if given, say in the
    error what it counts and what 0 means."""
    try:
        number = int(str(value).strip())
    except ValueError:
        raise ParameterError(f"{name}={value!r}: not a whole number{f' ({unit})' if unit else ''}") from None
    if number < 0:
        raise ParameterError(f"{name}={number}: must be 0 or more{f' ({zero})' if zero else ''}")
    return number


def parse_min_completions(value) -> int:
    return parse_count(value, "min_completions")


def parse_min_pd_per_month(value) -> int:
    return parse_count(value, "min_pd_per_month", unit="PD closures a month", zero="0 turns the guard off")


def parse_courts(value) -> tuple[str, ...] | None:
    codes = tuple(dict.fromkeys(c.strip().upper() for c in as_text(value).split(",") if c.strip()))
    bad = [c for c in codes if not re.fullmatch(r"[A-Z0-9]{2,4}", c)]
    if bad:
        raise ParameterError(f"courts: {', '.join(bad)} is not a base-city code such as SEA")
    return codes or None


def parse_definition(value) -> str:
    name = as_text(value).strip().lower()
    if name not in definition.DEFINITIONS:
        choices = ", ".join(definition.DEFINITIONS)
        raise ParameterError(f"definition={value!r}: unknown definition; use one of {choices}")
    return name


_DISMISSAL_CODE = re.compile(r"(?:([A-Z]{1,3}):)?([A-Z0-9]{1,2})")


def parse_dismissal_codes(value) -> tuple[tuple[str, str], ...]:
    """dismissal_codes: "U" counts DEC_CODE U in every case type, "RMV:U,DEP:D" names the case type of
    each; (case_type, code) pairs, definition.EVERY_CASE_TYPE for every case type. Empty: ()."""
    pairs = []
    for item in (part.strip().upper() for part in as_text(value).split(",") if part.strip()):
        match = _DISMISSAL_CODE.fullmatch(item.replace(" ", ""))
        if not match:
            raise ParameterError(
                f"dismissal_codes: {item!r} is not a DEC_CODE; use U (every case type) or RMV:U,DEP:D (per case type)"
            )
        case_type, code = match.group(1) or definition.EVERY_CASE_TYPE, match.group(2)
        if case_type != definition.EVERY_CASE_TYPE and case_type not in release_format.KNOWN_CASE_TYPES:
            known = ", ".join(sorted(release_format.KNOWN_CASE_TYPES))
            raise ParameterError(f"dismissal_codes: unknown case type {case_type} in {item} (known: {known})")
        pairs.append((case_type, code))
    return tuple(dict.fromkeys(pairs))


def parse_method(
    pd_codes, excluded_codes, case_types, unit, courts="", definition_name="pd-closures", dismissal_codes=""
) -> Method:
    pd = parse_codes(pd_codes, "pd_codes", release_format.KNOWN_OTHER_COMP_CODES, allow_empty=False)
    excluded = parse_codes(excluded_codes, "excluded_codes", release_format.KNOWN_OTHER_COMP_CODES)
    overlap = sorted(set(pd) & set(excluded))
    if overlap:
        raise ParameterError(f"pd_codes and excluded_codes both contain {', '.join(overlap)}")
    types = (
        None
        if as_text(case_types).strip().lower() in ("", "all")
        else parse_codes(case_types, "case_types", release_format.KNOWN_CASE_TYPES, allow_empty=False)
    )
    if str(unit) not in UNITS:
        raise ParameterError(f"unit={unit!r}: use one of {', '.join(UNITS)}")
    name = parse_definition(definition_name)
    override = parse_dismissal_codes(dismissal_codes)
    if override and name != definition.PD_DISMISSALS:
        raise ParameterError(
            f"dismissal_codes={as_text(dismissal_codes)!r}: only used with definition={definition.PD_DISMISSALS} "
            f"(this run's definition is {name})"
        )
    return Method(
        pd_codes=pd,
        excluded_codes=excluded,
        case_types=types,
        unit=str(unit),
        courts=parse_courts(courts),
        definition=name,
        dismissal_override=override,
    )


PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Run:
    """One run, as every notebook sees it: its name, input, window, method and output folders.

    A notebook makes it from its parameters cell with one call (Run.from_parameters); nothing
    downstream parses a parameter string again."""

    name: str
    release: Path
    window: Window
    method: Method
    min_completions: int
    interim_dir: Path
    processed_dir: Path
    figures_dir: Path
    min_pd_per_month: int = 100  # the guard's line (eras.guard)

    @classmethod
    def from_parameters(cls, *, interim_dir=None, processed_dir=None, figures_dir=None, **values) -> Run:
        """The run for a notebook's parameters; any not given take their defaults (see DEFAULTS).

        Folders not given are the project's own: data/interim, data/processed/<run>, figures/<run>."""
        unknown = sorted(set(values) - set(DEFAULTS))
        if unknown:
            raise ParameterError(f"unknown parameter {', '.join(unknown)} (known: {', '.join(DEFAULTS)})")
        values = _merged(None, values, keep_empty=True)
        window, method, min_completions = _parsed(values)
        return cls(
            name=values["run"],
            release=project_path(values["release"]),
            window=window,
            method=method,
            min_completions=min_completions,
            interim_dir=Path(interim_dir or PROJECT_ROOT / "data" / "interim"),
            processed_dir=Path(processed_dir or PROJECT_ROOT / "data" / "processed" / values["run"]),
            figures_dir=Path(figures_dir or PROJECT_ROOT / "figures" / values["run"]),
            min_pd_per_month=parse_min_pd_per_month(values["min_pd_per_month"]),
        )

    def describe(self) -> str:
        return f"Window {self.window}; {self.method.describe()}"


def project_path(value: str, root: Path = PROJECT_ROOT) -> Path:
    """An absolute path: as given when it exists from here (the user's directory), else relative to the
    project root, so `make all` and a notebook run from notebooks/ both find data/sample/..."""
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    return path.resolve() if path.exists() else Path(root) / path
