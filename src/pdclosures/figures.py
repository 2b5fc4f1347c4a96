"""The figures of a run: which ones, drawn side by side, and the notebook helpers that show them.

``render_all`` reads the processed folder of one run and writes every figure as PNG (200 dpi),
SVG and PDF into the run's figures folder. The drawing itself (house style, figure functions,
saving) is in ``charts``.

This module imports neither matplotlib nor pandas (about 2 CPU-seconds): notebook 03's kernel
only hands the figures out to worker processes, which import ``charts`` once, in a forkserver.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Sequence

from .errors import ReleaseError

log = logging.getLogger(__name__)

FIGURE_NAMES = (
    "01_courts_ranked",
    "02_monthly_trend",
    "03_fiscal_years",
    "04_states_circuits",
    "05_hearing_locations",
    "06_court_map",
)
SAVE_FORMATS = ("png", "svg", "pdf")
PNG_DPI = 200

# Drawing and saving cost of each figure (CPU-seconds, all three formats, measured at full scale),
# for scheduling: heaviest first, so the two processes end within about 0.2 s of each other.
_DRAWING_SECONDS = {"05_hearing_locations": 3.7, "04_states_circuits": 3.4, "01_courts_ranked": 3.3,
                    "06_court_map": 2.4, "02_monthly_trend": 1.9, "03_fiscal_years": 1.5}


def render_all(processed_dir: Path, figures_dir: Path, *, start: str, end: str,
               pd_codes: str | Sequence[str] = "Y,M,I",
               excluded_codes: str | Sequence[str] = "C,T", unit: str = "proceeding",
               min_completions: int = 100, case_types: str = "all", courts: str = "",
               policy_dates: Path | None = None, formats: Sequence[str] = SAVE_FORMATS,
               only: Sequence[str] | None = None, dpi: int = PNG_DPI, workers: int = 2) -> list[Path]:
    """Draw every figure of a run from its processed tables; returns the files written.

    Reads ``processed_dir``/{national,fiscal_years,months,courts,hearing_locations,states,
    circuits}.csv and ingest.json; writes ``figures_dir``/NN_name.{png,svg,pdf}. The map
    (06_court_map) is drawn only when the optional geometry packages are installed.
    ``policy_dates`` overrides data/reference/policy_dates.csv; ``formats`` and ``only`` (figure
    names such as "01_courts_ranked") restrict what is written; ``dpi`` is the PNG resolution
    (200 for publication; lower only for quick previews). With ``workers`` > 1 the figures are
    drawn in that many processes at once.
    """
    processed_dir, figures_dir = Path(processed_dir), Path(figures_dir)
    unknown = set(only or ()) - set(FIGURE_NAMES)
    if unknown:
        raise ValueError(f"unknown figure name(s): {', '.join(sorted(unknown))}")
    stems = [stem for stem in FIGURE_NAMES if only is None or stem in only]
    if "06_court_map" in stems and not map_available():
        log.warning("court map skipped: US geometry needs the packages plotly-geo and pyshp")
        stems.remove("06_court_map")
    options = dict(start=start, end=end, pd_codes=pd_codes, excluded_codes=excluded_codes, unit=unit,
                   min_completions=min_completions, case_types=case_types, courts=courts,
                   policy_dates=policy_dates, formats=formats, dpi=dpi)
    if workers > 1 and len(stems) > 1:
        return _draw_in_processes(workers, processed_dir, figures_dir, stems, options)
    return _draw(processed_dir, figures_dir, stems, options)


def _draw(processed_dir: Path, figures_dir: Path, stems: Sequence[str], options: dict) -> list[Path]:
    from . import charts  # matplotlib and pandas: imported only where figures are drawn

    return charts.draw_figures(processed_dir, figures_dir, stems, **options)


def _worker_context():
    """How render_all starts its worker processes.

    Not "fork": a notebook kernel runs threads, and forking a threaded process is unsafe. A
    "forkserver" is a fresh single-threaded process that imports ``charts`` (matplotlib, pandas)
    once and forks each worker from there; "spawn" would import it again in every worker, about
    2 s of CPU each. Falls back to "spawn" where there is no forkserver (Windows). The preload
    list applies to the process's forkserver, which is started once, at its first use.
    """
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([f"{__package__}.charts"])
    return context


def _draw_in_processes(workers: int, processed_dir: Path, figures_dir: Path, stems: Sequence[str],
                       options: dict) -> list[Path]:
    """One figure per task, in worker processes; files listed in figure order."""
    from concurrent.futures import ProcessPoolExecutor

    # The heaviest first, so that the processes finish close together.
    by_cost = sorted(stems, key=lambda stem: -_DRAWING_SECONDS.get(stem, 1.0))
    with ProcessPoolExecutor(max_workers=min(workers, len(stems)), mp_context=_worker_context()) as pool:
        tasks = {stem: pool.submit(_draw, processed_dir, figures_dir, [stem], options) for stem in by_cost}
        return [path for stem in stems for path in tasks[stem].result()]


def read_ingest_info(processed_dir: Path) -> dict:
    """The ingest stage's ingest.json of a run (release name/date, synthetic flag)."""
    path = Path(processed_dir) / "ingest.json"
    if not path.exists():
        raise ReleaseError(f"{path}: missing; run the ingest stage first (it records the release)")
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ReleaseError(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(info, dict):
        raise ReleaseError(f"{path}: expected a JSON object")
    return info


def shapefile_path() -> Path | None:
    """US state boundaries for the court map, if the optional packages are installed."""
    try:
        import _plotly_geo  # noqa: F401  (package plotly-geo: US Census cartographic boundaries)
        import shapefile  # noqa: F401  (package pyshp)
    except ImportError:
        return None
    p = Path(_plotly_geo.__file__).parent / "package_data" / "cb_2016_us_state_500k.shp"
    return p if p.exists() else None


def map_available() -> bool:
    """True when US state geometry ships in an installed package (plotly-geo + pyshp)."""
    return shapefile_path() is not None


# --------------------------------------------------------------------------------------------
# Notebook helpers (keep the notebook thin)
# --------------------------------------------------------------------------------------------

def run_banner(processed_dir: Path) -> str:
    """HTML callout for a notebook: loud when the run used the synthetic sample."""
    import html as _html

    info = read_ingest_info(processed_dir)
    release = info.get("release_date") or info.get("release_name") or "(release not recorded)"
    if info.get("synthetic"):
        return (
            '<div style="border:3px solid #D55E00;background:#FDEFE6;padding:0.8em 1em;'
            'font-size:1.1em;"><b>SYNTHETIC SAMPLE \u2014 NOT REAL DATA.</b> This run used the '
            "project's made-up sample release: every number and figure below only shows that "
            "the pipeline works and says nothing about ICE or the immigration courts.</div>"
        )
    return (
        '<div style="border-left:6px solid #0072B2;background:#EEF5FB;padding:0.6em 1em;">'
        f"Data: EOIR case-data release <b>{_html.escape(str(release))}</b>.</div>"
    )


def display_figure(figures_dir: Path, name: str, width: int = 900):
    """An IPython object showing figures_dir/<name>.png, or a note if it was not drawn."""
    from IPython.display import Image, Markdown

    path = Path(figures_dir) / f"{name}.png"
    if path.exists():
        return Image(filename=str(path), width=width)
    if name == "06_court_map" and not map_available():
        return Markdown("*Map not drawn: US state geometry needs the optional packages "
                        "`plotly-geo` and `pyshp`, which are not installed.*")
    return Markdown(f"*Figure `{name}` was not drawn (no file {path}).*")
