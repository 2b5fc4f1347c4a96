"""`make all`: run the numbered notebooks in order with papermill, then publish the run's outputs.

The notebooks write into hidden staging folders; data/processed/<RUN>/, figures/<RUN>/ and
reports/<RUN>/ are replaced only when every notebook has succeeded, so a failed or interrupted
run leaves the previous outputs as they were. Bad parameters and unusable inputs are refused
before any notebook starts, with one line that names the parameter or file.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import time
from pathlib import Path

from . import eras, ingest, params, run_record
from .errors import ParameterError, ReleaseError, UserError, run_command

PROJECT_ROOT = Path(__file__).resolve().parents[2]
KERNEL = "python3"
# Quiet kernels: ipykernel warns on every start that its local TCP ports are unencrypted, and logs an
# "ERROR | KeyboardInterrupt caught in kernel" when papermill stops it after the last cell. A failed
# cell still reaches the user, through papermill, as one line.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]
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
    timings: dict[str, float] = {}
    ingested = None
    started = time.perf_counter()
    with staged_outputs(paths, name) as (staging, finals):
        available = {
            **values,
            "release": str(release),
            "interim_dir": str(paths.interim),
            "processed_dir": str(staging["processed"]),
            "figures_dir": str(staging["figures"]),
        }
        for notebook in paths.notebook_files():
            log(f"[{name}] {notebook.stem} ...")
            began = time.perf_counter()
            execute(notebook, staging["reports"] / notebook.name, available, paths, name)
            timings[notebook.stem] = round(time.perf_counter() - began, 2)
            if notebook.stem.startswith("01_"):
                ingested = ingest.load_ingest(staging["processed"])  # read once: only 01 writes it
                _warn_about_coverage(values, ingested.manifest, log)
        began = time.perf_counter()
        ingested = ingested or ingest.load_ingest(staging["processed"])
        write_reports(staging["reports"], values, ingested, staging["processed"])
        timings["report"] = round(time.perf_counter() - began, 2)
        timings["total"] = round(time.perf_counter() - started, 2)
        run_record.write_run_json(staging["processed"], values, release, ingested, timings)
        said = params.coverage_warning(params.parse_window(values["start"], values["end"]), ingested.manifest)
        for warning in eras.read_warnings(staging["processed"]):
            if warning != said:  # the coverage warning was said after 01_ingest
                log(f"[{name}] {warning}")
    log(
        f"[{name}] done in {timings['total']:.1f} s: {shown(finals['processed'], paths)}/, "
        f"{shown(finals['figures'], paths)}/, {shown(finals['reports'], paths)}/report.html"
    )
    return finals["processed"]


@contextlib.contextmanager
def staged_outputs(paths: Paths, name: str):
    """Hidden staging folders for a run's three output folders, published together only when the
    body succeeds; removed in any case. Yields (staging, finals), each {processed, figures, reports}."""
    finals = {"processed": paths.processed / name, "figures": paths.figures / name, "reports": paths.reports / name}
    # A fixed staging name (no process id): the paths the notebooks see, and may print, are the same on every run.
    staging = {key: final.with_name(f".{name}.tmp") for key, final in finals.items()}
    try:
        for folder in staging.values():
            shutil.rmtree(folder, ignore_errors=True)  # left by a killed run
            folder.mkdir(parents=True)
        yield staging, finals
        _publish(staging, finals)
        shutil.rmtree(paths.reports / f"{name}.failed", ignore_errors=True)  # an earlier failure's, now stale
    finally:
        for folder in staging.values():
            shutil.rmtree(folder, ignore_errors=True)


def write_reports(reports: Path, values: dict, ingested: ingest.IngestResult, processed: Path | None = None) -> None:
    """Each executed notebook as HTML, and report.html (opening with the answer from the run's tables in
    `processed`, when given)."""
    from . import report  # nbconvert: imported only once there is a report, so that a typo fails fast

    executed = report.notebooks_in(reports)
    report.export_notebooks(executed)
    report.build_report(reports, executed, parameters=values, ingested=ingested, processed=processed)


def execute(notebook: Path, executed: Path, available: dict, paths: Paths, name: str) -> None:
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
    return UserError(f"{notebook.name} failed ({ename}: {detail}); the executed notebook is in {shown(failed, paths)}/")


def _warn_about_coverage(values: dict, manifest: dict, log) -> None:
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


def shown(path: Path, paths: Paths) -> str:
    return str(path.relative_to(paths.root)) if path.is_relative_to(paths.root) else str(path)


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
