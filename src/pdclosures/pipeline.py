"""`make all`: run the numbered notebooks in order with papermill, then publish the run's outputs.

The notebooks write into hidden staging folders; data/processed/<RUN>/, figures/<RUN>/ and
reports/<RUN>/ are replaced only when every notebook has succeeded, so a failed or interrupted
run leaves the previous outputs as they were. Bad parameters and unusable inputs are refused
before any notebook starts, with one line that names the parameter or file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import subprocess
import time
from importlib import metadata
from pathlib import Path

from . import __version__, ingest, params
from .errors import ParameterError, ReleaseError, UserError, run_command

PROJECT_ROOT = Path(__file__).resolve().parents[2]
KERNEL = "python3"
# Quiet kernels: without it, ipykernel warns on every start that its local TCP ports are unencrypted.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]
# Recorded in run.json, beside the runtime dependencies pyproject.toml declares.
RECORDED = ["duckdb", "pyarrow", "pandas", "numpy", "matplotlib", "papermill", "nbconvert", "nbclient", "ipykernel"]
# The release's facts that run.json repeats from the ingest record.
RELEASE_FACTS = (
    "release_id release_name release_date data_from data_through synthetic checksum_sha256 checksum_of".split()
)
# Errors raised inside a notebook that are the user's to fix: re-raised as one line, no .failed copy.
USER_ERRORS = {cls.__name__: cls for cls in (UserError, ParameterError, ReleaseError)}


class Paths:
    """Where a run reads notebooks and writes outputs: the project's folders, or a scratch root's."""

    def __init__(self, root: Path = PROJECT_ROOT, notebooks: Path | None = None):
        self.root = Path(root)
        self.notebooks = Path(notebooks) if notebooks else self.root / "notebooks"
        self.interim = self.root / "data" / "interim"
        self.processed = self.root / "data" / "processed"
        self.figures = self.root / "figures"
        self.reports = self.root / "reports"

    def notebook_files(self) -> list[Path]:
        return sorted(self.notebooks.glob("[0-9][0-9]_*.ipynb"))


def run(values: dict, paths: Paths = Paths(), *, log=print) -> Path:
    """Run the notebooks for resolved parameters (params.resolve) and publish; returns data/processed/<RUN>/."""
    release = params.project_path(values["release"], paths.root)
    ingest.preflight(release, params.parse_courts(values["courts"]))  # before any folder is touched
    name = values["run"]
    finals = {"processed": paths.processed / name, "figures": paths.figures / name, "reports": paths.reports / name}
    # A fixed staging name (no process id): the paths the notebooks see, and may print, are the same on every run.
    staging = {key: final.with_name(f".{name}.tmp") for key, final in finals.items()}
    available = {
        **values,
        "release": str(release),
        "interim_dir": str(paths.interim),
        "processed_dir": str(staging["processed"]),
        "figures_dir": str(staging["figures"]),
    }
    timings: dict[str, float] = {}
    started = time.perf_counter()
    try:
        for folder in staging.values():
            shutil.rmtree(folder, ignore_errors=True)  # left by a killed run
            folder.mkdir(parents=True)
        for notebook in paths.notebook_files():
            log(f"[{name}] {notebook.stem} ...")
            began = time.perf_counter()
            _execute(notebook, staging["reports"] / notebook.name, available, paths, name)
            timings[notebook.stem] = round(time.perf_counter() - began, 2)
            if notebook.stem.startswith("01_"):
                _warn_about_coverage(values, staging["processed"], log)
        began = time.perf_counter()
        ingested = ingest.load_ingest(staging["processed"])
        _write_reports(staging["reports"], values, ingested, staging["processed"])
        timings["report"] = round(time.perf_counter() - began, 2)
        timings["total"] = round(time.perf_counter() - started, 2)
        write_run_json(staging["processed"], values, release, ingested, timings)
        _publish(staging, finals)
        shutil.rmtree(paths.reports / f"{name}.failed", ignore_errors=True)  # an earlier failure's, now stale
    finally:
        for folder in staging.values():
            shutil.rmtree(folder, ignore_errors=True)
    log(
        f"[{name}] done in {timings['total']:.1f} s: {_shown(finals['processed'], paths)}/, "
        f"{_shown(finals['figures'], paths)}/, {_shown(finals['reports'], paths)}/report.html"
    )
    return finals["processed"]


def _write_reports(reports: Path, values: dict, ingested: ingest.IngestResult, processed: Path) -> None:
    """Each executed notebook as HTML, and report.html."""
    from . import report  # nbconvert: imported only once there is a report, so that a typo fails fast

    executed = report.notebooks_in(reports)
    report.export_notebooks(executed)
    report.build_report(reports, executed, parameters=values, ingested=ingested, processed=processed)


def _execute(notebook: Path, executed: Path, available: dict, paths: Paths, name: str) -> None:
    """Run one notebook with exactly the parameters its parameters cell declares."""
    import papermill

    declared = papermill.inspect_notebook(str(notebook))
    try:
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            kernel_name=KERNEL,
            cwd=str(notebook.parent),
            parameters={k: v for k, v in available.items() if k in declared},
            progress_bar=False,
            extra_arguments=KERNEL_ARGUMENTS,
        )
    except Exception as error:  # a failed cell, a dead kernel...: each becomes one line
        raise _failure(notebook, error, executed.parent, paths, name) from None


def _failure(notebook: Path, error: Exception, staged_reports: Path, paths: Paths, name: str) -> UserError:
    """The one-line error for a failed notebook. Unless it raised one of our own errors (the user's
    to fix), the executed notebooks so far are kept in reports/<RUN>.failed/ to be read."""
    ename = getattr(error, "ename", type(error).__name__)  # papermill's error carries the cell's
    evalue = str(getattr(error, "evalue", error)).strip()
    if ename in USER_ERRORS:
        return USER_ERRORS[ename](evalue)
    failed = paths.reports / f"{name}.failed"
    shutil.rmtree(failed, ignore_errors=True)
    shutil.copytree(staged_reports, failed)
    detail = evalue.splitlines()[0] if evalue else ""
    return UserError(
        f"{notebook.name} failed ({ename}: {detail}); the executed notebook is in {_shown(failed, paths)}/"
    )


def _warn_about_coverage(values: dict, processed: Path, log) -> None:
    manifest = ingest.load_ingest(processed).manifest
    warning = params.coverage_warning(params.parse_window(values["start"], values["end"]), manifest)
    if warning:
        log(f"[{values['run']}] {warning}")


def _publish(staging: dict[str, Path], finals: dict[str, Path]) -> None:
    """Swap each staged folder into place; the old one is removed only after the swap."""
    for key, final in finals.items():
        old = final.with_name(f".{final.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            os.replace(final, old)
        os.replace(staging[key], final)
        shutil.rmtree(old, ignore_errors=True)


def _shown(path: Path, paths: Paths) -> str:
    return str(path.relative_to(paths.root)) if path.is_relative_to(paths.root) else str(path)


def write_run_json(processed: Path, values: dict, release: Path, ingested: ingest.IngestResult, timings: dict) -> Path:
    """run.json: what was run, on what, with which code, how the rows were accounted for, how long it took."""
    facts = ingested.manifest
    record = {
        "parameters": {key: values[key] for key in sorted(values)},
        "release": {key: facts.get(key) for key in RELEASE_FACTS},
        "release_path": str(release),
        "synthetic_sample": ingested.synthetic,
        "code": {"package": "pdclosures", "version": __version__, "git_commit": _git_commit()},
        "python": platform.python_version(),
        "dependencies": dependency_versions(),
        "row_accounting": facts.get("accounting", []),
        "timings_seconds": timings,
        "finished_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if ingested.synthetic:
        record["warning"] = "SYNTHETIC SAMPLE: these numbers come from generated data, not from EOIR records."
    path = processed / "run.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    return path


def dependency_versions() -> dict[str, str | None]:
    """Installed versions of the runtime dependencies (pyproject.toml's list) and the notebook tools."""
    try:
        declared = metadata.requires("pdclosures") or []
    except metadata.PackageNotFoundError:
        declared = []
    names = [
        re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0]
        for requirement in declared
        if "extra ==" not in requirement
    ]
    return {name: _version(name) for name in sorted(set(names + RECORDED), key=str.lower)}


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _git_commit() -> str | None:
    """The commit the code was run from, with "-dirty" if tracked files were changed."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT, capture_output=True, text=True
        ).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pdclosures.pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--params", help="preset YAML, e.g. params/trac-2014.yaml")
    for name in params.DEFAULTS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, help=f"default: {params.DEFAULTS[name]!r}")
    args = parser.parse_args(argv)
    overrides = {name: getattr(args, name) for name in params.DEFAULTS}
    return run_command(
        lambda: run(params.resolve(args.params, **overrides)),
        interrupted="interrupted: previous outputs left as they were",
    )


if __name__ == "__main__":
    raise SystemExit(main())
