"""Run the numbered notebooks in order with papermill, then publish the outputs all at once.

A run writes into hidden staging folders and replaces data/processed/<RUN>/, figures/<RUN>/ and
reports/<RUN>/ only when every notebook has succeeded, so a failed or interrupted run leaves the
previous outputs as they were. Expected mistakes (bad parameters, unusable inputs) print one line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

from . import __version__, params
from .errors import UserError, run_command

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEPENDENCIES = ["duckdb", "pyarrow", "pandas", "numpy", "matplotlib", "seaborn", "papermill", "nbconvert",
                "jupyterlab", "ipykernel", "pyyaml", "tqdm", "zipfile-deflate64"]


class Paths:
    """Where a run's outputs live; all relative to the project root unless given absolutely."""

    def __init__(self, root: Path = PROJECT_ROOT, notebooks: Path | None = None):
        self.root = root
        self.notebooks = notebooks or root / "notebooks"
        self.interim = root / "data" / "interim"
        self.processed = root / "data" / "processed"
        self.figures = root / "figures"
        self.reports = root / "reports"

    def notebook_files(self) -> list[Path]:
        return sorted(p for p in self.notebooks.glob("[0-9][0-9]_*.ipynb"))


def run(values: dict, paths: Paths = Paths(), *, log=print) -> Path:
    """Execute the chain for resolved parameters; returns data/processed/<RUN>/."""
    from .cleaning import preflight

    release_path = Path(values["release"]).expanduser()
    if not release_path.is_absolute():  # relative to where the user is, else to the project
        release_path = Path.cwd() / release_path if (Path.cwd() / release_path).exists() else paths.root / release_path
    # A missing or broken release, or an unknown court, fails before any notebook starts.
    preflight(release_path, params.parse_courts(values["courts"]))

    name = values["run"]
    finals = {"processed": paths.processed / name, "figures": paths.figures / name, "reports": paths.reports / name}
    staging = {key: final.with_name(f".{name}.tmp-{os.getpid()}") for key, final in finals.items()}
    for key, folder in staging.items():
        for stale in folder.parent.glob(f".{name}.tmp-*"):  # left by a killed run
            shutil.rmtree(stale, ignore_errors=True)
        folder.mkdir(parents=True)
    notebook_params = {
        **{k: v for k, v in values.items() if k != "release"},
        "release": str(release_path),
        "interim_dir": str(paths.interim),
        "processed_dir": str(staging["processed"]),
        "figures_dir": str(staging["figures"]),
    }
    timings = {}
    started = time.perf_counter()
    try:
        for notebook in paths.notebook_files():
            log(f"[{name}] {notebook.stem} ...")
            began = time.perf_counter()
            executed = staging["reports"] / notebook.name
            _execute(notebook, executed, notebook_params, paths)
            timings[notebook.stem] = round(time.perf_counter() - began, 2)
            _export_html(executed)
            if notebook.name.startswith("01_"):
                _warn_about_coverage(values, staging["processed"], log)
        from .report import build_report

        build_report(staging["reports"], sorted(staging["reports"].glob("*.ipynb")))
        timings["total"] = round(time.perf_counter() - started, 2)
        _write_run_json(staging["processed"], values, release_path, timings)
        _publish(staging, finals)
    finally:
        for folder in staging.values():
            shutil.rmtree(folder, ignore_errors=True)
    log(f"[{name}] done in {timings['total']:.1f} s: {finals['processed'].relative_to(paths.root)}/, "
        f"{finals['figures'].relative_to(paths.root)}/, {finals['reports'].relative_to(paths.root)}/report.html")
    return finals["processed"]


def _execute(notebook: Path, executed: Path, notebook_params: dict, paths: Paths) -> None:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    try:
        papermill.execute_notebook(str(notebook), str(executed), parameters=notebook_params,
                                   cwd=str(paths.notebooks), kernel_name="python3", progress_bar=False,
                                   request_save_on_cell_execute=False,  # saved once, at the end
                                   extra_arguments=["--IPKernelApp.log_level=ERROR"])  # no TCP notice per kernel
    except PapermillExecutionError as error:
        if error.ename in {"UserError", "ParameterError", "ReleaseError"}:
            raise UserError(error.evalue) from None
        failed = executed.parent.with_name(f"{notebook_params['run']}.failed")
        shutil.rmtree(failed, ignore_errors=True)
        shutil.copytree(executed.parent, failed)
        raise UserError(f"{notebook.name} failed ({error.ename}: {error.evalue}); "
                        f"the executed notebook is in {failed.relative_to(paths.root)}/") from None


def _warn_about_coverage(values: dict, processed: Path, log) -> None:
    from .rates import coverage_warning

    manifest = json.loads((processed / "ingest.json").read_text())
    warning = coverage_warning(params.parse_window(values["start"], values["end"]), manifest)
    if warning:
        log(f"[{values['run']}] {warning}")


def _export_html(executed: Path) -> None:
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(nbformat.read(executed, as_version=4))
    executed.with_suffix(".html").write_text(body, encoding="utf-8")


def _publish(staging: dict[str, Path], finals: dict[str, Path]) -> None:
    """Swap each staged folder into place; the old one is removed only after the swap."""
    for key, final in finals.items():
        old = final.with_name(f".{final.name}.old-{os.getpid()}")
        if final.exists():
            os.replace(final, old)
        os.replace(staging[key], final)
        shutil.rmtree(old, ignore_errors=True)


def _write_run_json(processed: Path, values: dict, release_path: Path, timings: dict) -> None:
    ingest = json.loads((processed / "ingest.json").read_text())
    accounting = ingest.get("accounting", [])
    record = {
        "parameters": {k: values[k] for k in sorted(values)},
        "release": {k: ingest.get(k) for k in ["release_id", "release_name", "release_date", "data_through",
                                                "synthetic", "checksum_sha256", "checksum_of"]},
        "release_path": str(release_path),
        "synthetic_sample": bool(ingest.get("synthetic")),
        "code": {"package": "pdclosures", "version": __version__, "git_commit": _git_commit()},
        "python": platform.python_version(),
        "dependencies": {name: _version(name) for name in DEPENDENCIES},
        "row_accounting": accounting,
        "timings_seconds": timings,
        "finished_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if ingest.get("synthetic"):
        record["warning"] = "SYNTHETIC SAMPLE: these numbers come from generated data, not from EOIR records."
    (processed / "run.json").write_text(json.dumps(record, indent=2) + "\n")


def _git_commit() -> str | None:
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=PROJECT_ROOT,
                               capture_output=True, text=True).stdout.strip()
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return None


def _version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pdclosures.pipeline", description=__doc__.splitlines()[0])
    parser.add_argument("--params", help="preset YAML, e.g. params/trac-2014.yaml")
    for name in params.DEFAULTS:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=name, help=f"default: {params.DEFAULTS[name]!r}")
    args = parser.parse_args(argv)
    overrides = {name: getattr(args, name) for name in params.DEFAULTS}
    return run_command(lambda: run(params.resolve(args.params, **overrides)),
                       interrupted="interrupted: previous outputs left as they were")


if __name__ == "__main__":
    sys.exit(main())
