"""Run the numbered notebooks in order with papermill, then publish the outputs all at once.

A run writes into hidden staging folders and replaces data/processed/<RUN>/, figures/<RUN>/ and
reports/<RUN>/ only when every notebook has succeeded, so a failed or interrupted run leaves the
previous outputs as they were. Expected mistakes (bad parameters, unusable inputs) print one line.

01_ingest and 02_rates run one after the other; 03_figures and 04_validate then run side by side
(see CONCURRENT). Each notebook's kernel is started, and connected to, while the notebooks before
it run (see _Chain), and each executed notebook is exported to HTML in a background thread while
the next ones run.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import gc
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path

from . import __version__, ingest, params
from .errors import UserError, run_command
# Imported first for its side effect: nbformat's jsonschema then loads without the slow "iri"
# format checks (report.import_jsonschema_without_iri_checks), here and in papermill.
from . import report

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEPENDENCIES = ["duckdb", "pyarrow", "pandas", "numpy", "matplotlib", "seaborn", "papermill", "nbconvert",
                "jupyterlab", "ipykernel", "pyyaml", "tqdm", "zipfile-deflate64"]

# Notebooks that run side by side once the ones before them have finished. Both only read what
# 01 and 02 wrote (ingest.json, the cache, the rates tables) and each writes its own files:
# 03 figures/01_..06_*; 04 processed/sensitivity.csv, processed/validation.csv and
# figures/07_sensitivity.*. Neither reads anything the other writes.
CONCURRENT = frozenset({"03_figures", "04_validate"})


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
    release_path = Path(values["release"]).expanduser()
    if not release_path.is_absolute():  # relative to where the user is, else to the project
        release_path = Path.cwd() / release_path if (Path.cwd() / release_path).exists() else paths.root / release_path
    name = values["run"]
    finals = {"processed": paths.processed / name, "figures": paths.figures / name, "reports": paths.reports / name}
    staging = {key: final.with_name(f".{name}.tmp-{os.getpid()}") for key, final in finals.items()}
    exports = _HtmlExports()
    chain = _Chain(paths.notebook_files(), staging["reports"], exports)
    timings = {}
    try:
        chain.start()  # the first kernel boots while the release is checked
        # A missing or broken release, or an unknown court, fails before any notebook starts.
        ingest.preflight(release_path, params.parse_courts(values["courts"]))
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
        started = time.perf_counter()
        for stage in chain.stages:
            for notebook_run in stage:
                log(f"[{name}] {notebook_run.notebook.stem} ...")
                notebook_run.go(notebook_params)
            if stage is chain.stages[-1]:
                exports.warm_up_report()  # while the last notebooks run
            for notebook_run in stage:
                notebook_run.join()
            failed = [notebook_run for notebook_run in stage if notebook_run.error is not None]
            if failed:
                if not isinstance(failed[0].error, _papermill_error()):
                    raise failed[0].error
                exports.wait(raise_errors=False)  # so that a .failed copy has no half-written HTML
                raise _failure(failed[0].notebook, failed[0].error, staging["reports"], name, paths)
            for notebook_run in stage:
                timings[notebook_run.notebook.stem] = notebook_run.seconds
            if any(notebook_run.notebook.name.startswith("01_") for notebook_run in stage):
                _warn_about_coverage(values, staging["processed"], log)
        exports.wait()
        report.build_report(staging["reports"], sorted(staging["reports"].glob("*.ipynb")))
        timings["total"] = round(time.perf_counter() - started, 2)
        _write_run_json(staging["processed"], values, release_path, timings)
        _publish(staging, finals)
    finally:
        chain.close()  # kills the kernels of notebooks that did not run or did not finish
        exports.close()  # no export may still be writing into a staging folder
        for folder in staging.values():
            shutil.rmtree(folder, ignore_errors=True)
    log(f"[{name}] done in {timings['total']:.1f} s: {finals['processed'].relative_to(paths.root)}/, "
        f"{finals['figures'].relative_to(paths.root)}/, {finals['reports'].relative_to(paths.root)}/report.html")
    return finals["processed"]


def _stages(notebooks: list[Path]) -> list[list[Path]]:
    """The notebooks in order, grouped: each run of consecutive CONCURRENT notebooks is one stage."""
    stages: list[list[Path]] = []
    for notebook in notebooks:
        if stages and notebook.stem in CONCURRENT and all(n.stem in CONCURRENT for n in stages[-1]):
            stages[-1].append(notebook)
        else:
            stages.append([notebook])
    return stages


class _Chain:
    """The run's notebooks, in stages (see _stages), each notebook in a _NotebookRun.

    Kernels are started ahead of their notebooks: the first stage's by start(), each later
    stage's once the kernels of the stage before have answered. They then boot while the
    notebooks before them run, and never several at once (booting is CPU-bound: the kernel
    about to be used would wait longer). Kernels talk to this process over Unix sockets in a
    temporary folder (where there are): with TCP, a port picked for a kernel that is still
    starting can be taken meanwhile by a connection to another kernel."""

    def __init__(self, notebooks: list[Path], reports: Path, exports: _HtmlExports):
        _remove_socket_folders_of_killed_runs()
        self._sockets = Path(tempfile.mkdtemp(prefix=f"{SOCKETS_PREFIX}{os.getpid()}-"))
        self.stages = [[_NotebookRun(notebook, reports / notebook.name, exports, self._sockets, index,
                                     self._kernel_ready) for notebook in stage]
                       for index, stage in enumerate(_stages(notebooks))]
        self._waiting = [len(stage) for stage in self.stages]
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> None:
        for notebook_run in self.stages[0] if self.stages else []:
            notebook_run.start()

    def _kernel_ready(self, stage: int) -> None:
        # Under the lock, so that close() either sees the next stage started or stops it starting.
        with self._lock:
            self._waiting[stage] -= 1
            if not self._closed and self._waiting[stage] == 0 and stage + 1 < len(self.stages):
                for notebook_run in self.stages[stage + 1]:
                    notebook_run.start()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        for stage in self.stages:
            for notebook_run in stage:
                notebook_run.cancel()
        shutil.rmtree(self._sockets, ignore_errors=True)


SOCKETS_PREFIX = "pdclosures-kernels-"  # then the process id: pdclosures-kernels-<PID>-<random>


def _remove_socket_folders_of_killed_runs() -> None:
    """Removes the kernel socket folders of runs whose process is gone (killed: no cleanup)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{SOCKETS_PREFIX}*-*"):
        pid = folder.name[len(SOCKETS_PREFIX):].split("-")[0]
        if not pid.isdigit():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except OSError:  # alive, someone else's
            pass


# The kernel's arguments: quiet (no TCP notice per kernel), and its IPython history in memory,
# as nbclient does for the kernels it starts (no SQLite file shared by concurrent kernels).
KERNEL_NAME = "python3"
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR", "--HistoryManager.hist_file=:memory:"]


class _NotebookRun(threading.Thread):
    """One notebook in a thread of its own: starts its kernel and connects to it, runs the
    notebook in it when told to (go), records the wall time or the error, and queues the HTML
    export.

    Starting a kernel takes about a second (a Python process importing IPython), and a client
    waiting for it to answer another 0.25 s; both happen before the notebook is due. The thread
    is a daemon, and cancel() kills the kernel (and any process it started) at once, so that
    after an error or Ctrl-C the main thread cleans up and exits without waiting."""

    def __init__(self, notebook: Path, executed: Path, exports: _HtmlExports, sockets: Path, stage: int,
                 kernel_ready):
        super().__init__(name=f"pdclosures-{notebook.stem}", daemon=True)
        self.notebook, self.executed = notebook, executed
        self.seconds: float | None = None
        self.error: Exception | None = None
        self._exports, self._sockets, self._stage, self._kernel_ready = exports, sockets, stage, kernel_ready
        self._go = threading.Event()
        self._params: dict | None = None  # None when told to go: cancelled
        self._due = 0.0
        self._lock = threading.Lock()
        self._cancelled = self._finished = False
        self._kernel_group: int | None = None

    def go(self, notebook_params: dict) -> None:
        self._due = time.perf_counter()
        self._params = notebook_params
        self._go.set()

    def cancel(self) -> None:
        """Lets a notebook that has not started go; kills the kernel of one that has not ended."""
        with self._lock:
            self._cancelled = True
            group = None if self._finished else self._kernel_group
        self._go.set()
        if group is not None:
            with contextlib.suppress(OSError):
                os.killpg(group, signal.SIGKILL)

    def run(self) -> None:
        from jupyter_client.manager import AsyncKernelManager
        from jupyter_core.utils import ensure_event_loop, run_sync

        ipc = {"transport": "ipc", "ip": str(self._sockets / self.notebook.stem)} if os.name == "posix" else {}
        kernel = AsyncKernelManager(kernel_name=KERNEL_NAME, **ipc)
        client = None
        connection_file = None  # set once the kernel is started
        try:
            try:
                with self._lock:
                    if self._cancelled:  # closed before this thread got going: no kernel at all
                        return
                # The kernel's working directory is the notebooks folder, like papermill's cwd=,
                # which would change the whole process's directory (not thread-safe).
                run_sync(kernel.start_kernel)(cwd=str(self.notebook.parent), extra_arguments=KERNEL_ARGUMENTS)
                connection_file = kernel.connection_file
                with self._lock:
                    self._kernel_group = getattr(kernel.provisioner, "pgid", None) if os.name == "posix" else None
                    cancelled = self._cancelled
                if cancelled:
                    return
                import papermill  # noqa: F401 (for the first notebook: imported while its kernel boots)

                client = kernel.client()
                client.start_channels()
                run_sync(client.wait_for_ready)(timeout=60)
            finally:
                self._kernel_ready(self._stage)
            self._go.wait()
            if self._params is None:
                return
            _execute(self.notebook, self.executed, self._params, kernel, client)
            self.seconds = round(time.perf_counter() - self._due, 2)  # with any wait for the kernel
            self._exports.submit(self.executed)
        except Exception as error:  # noqa: BLE001 (reported by the main thread)
            self.error = error
        finally:  # papermill has stopped the client and the kernel, unless the notebook did not run
            with self._lock:
                self._finished = True
            with contextlib.suppress(Exception):
                if client is not None and client.channels_running:
                    client.stop_channels()
            with contextlib.suppress(Exception):
                if run_sync(kernel.is_alive)():
                    run_sync(kernel.shutdown_kernel)(now=True)
                else:
                    run_sync(kernel.cleanup_resources)()  # connection file, sockets
            if connection_file is not None:  # the kernel leads its group: the group id is its pid
                _kill_if_still_running(self._kernel_group, connection_file)
            ensure_event_loop().close()

    def join(self, timeout: float | None = None) -> None:
        if self.ident is not None:  # started
            super().join(timeout)


def _kill_if_still_running(pid: int | None, connection_file: str) -> None:
    """Kills a kernel that jupyter_client has shut down but that still runs.

    In about one run in 25 of the pipeline tests, a kernel shut down just after its start
    (shutdown_kernel(now=True), then is_alive() False) was still running ten seconds later. The
    process is found by its pid and its own connection file, so nothing else is touched; it leads
    its own process group (start_new_session). Where there is no /proc, this does nothing."""
    if pid is None:
        return
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()  # empty for a zombie
    except OSError:  # gone, or no /proc
        return
    if os.fsencode(connection_file) not in command.split(b"\0"):
        return
    with contextlib.suppress(OSError):
        os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    with contextlib.suppress(ChildProcessError):  # reaped elsewhere
        while os.waitpid(pid, os.WNOHANG) == (0, 0) and time.monotonic() < deadline:
            time.sleep(0.01)


def _papermill_error() -> type:
    from papermill.exceptions import PapermillExecutionError

    return PapermillExecutionError


def _execute(notebook: Path, executed: Path, notebook_params: dict, kernel, client) -> None:
    """Run one notebook with papermill in a started kernel, connected to with `client`; papermill
    then stops the client and the kernel."""
    import papermill

    papermill.execute_notebook(str(notebook), str(executed), parameters=notebook_params,
                               engine_name=_engine(), km=kernel, kc=client, kernel_name=KERNEL_NAME,
                               progress_bar=False, request_save_on_cell_execute=False)  # saved once, at the end


@functools.cache
def _engine() -> str:
    """Registers and names a papermill engine that runs a notebook in a given, started kernel.

    papermill's own nbclient engine starts a kernel for every notebook and shuts it down after;
    given a kernel (km=), nbclient would leave both the kernel and its client running. This
    engine hands nbclient the kernel and a client already connected to it (kc=), and has it
    clean up as if it had started them. The kernel is killed rather than asked to exit: the last
    cell has finished and its output has arrived, nothing in the kernel is left to save, and a
    graceful shutdown waits about 0.6 s."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger

    class StartedKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False, stdout_file=None,
                                     stderr_file=None, start_timeout=60, execution_timeout=None, *, km,
                                     kc, **kwargs):
            kwargs.pop("input_path", None)
            client = PapermillNotebookClient(
                nb_man, km=km, kernel_name=kernel_name, log=logger, log_output=log_output,
                stdout_file=stdout_file, stderr_file=stderr_file, startup_timeout=start_timeout,
                timeout=execution_timeout, shutdown_kernel="immediate", **kwargs)
            kc.allow_stdin = False  # as nbclient sets up the clients it starts
            client.kc = kc
            return client.execute(cleanup_kc=True)

    papermill_engines.register("pdclosures", StartedKernelEngine)
    return "pdclosures"


def _failure(notebook: Path, error, reports: Path, name: str, paths: Paths) -> UserError:
    """The one-line error for a notebook that failed in a cell (papermill's error); unless the
    notebook raised one of our own errors, keeps a copy of the staged reports as <RUN>.failed."""
    if error.ename in {"UserError", "ParameterError", "ReleaseError"}:
        return UserError(error.evalue)
    failed = reports.with_name(f"{name}.failed")
    shutil.rmtree(failed, ignore_errors=True)
    shutil.copytree(reports, failed)
    return UserError(f"{notebook.name} failed ({error.ename}: {error.evalue}); "
                     f"the executed notebook is in {failed.relative_to(paths.root)}/")


def _warn_about_coverage(values: dict, processed: Path, log) -> None:
    manifest = json.loads((processed / "ingest.json").read_text())
    warning = params.coverage_warning(params.parse_window(values["start"], values["end"]), manifest)
    if warning:
        log(f"[{values['run']}] {warning}")


class _HtmlExports:
    """Exports executed notebooks to HTML one at a time in a background thread, with one exporter
    (building an HTMLExporter loads its templates; reusing it halves the cost of an export).

    The parent process mostly waits on kernels while notebooks run, so the exports cost the
    chain only the time of the last one."""

    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pdclosures-html")
        self._futures = []
        self._exporter = None

    def submit(self, executed: Path) -> None:
        self._futures.append(self._pool.submit(self._export, executed))

    def warm_up_report(self) -> None:
        """Queues the compilation of the report's templates (see report.warm_up)."""
        self._futures.append(self._pool.submit(report.warm_up))

    def _export(self, executed: Path) -> None:
        import nbformat
        from nbconvert import HTMLExporter

        if self._exporter is None:
            self._exporter = HTMLExporter()
        body, _ = self._exporter.from_notebook_node(nbformat.read(executed, as_version=4))
        executed.with_suffix(".html").write_text(body, encoding="utf-8")

    def wait(self, raise_errors: bool = True) -> None:
        """Wait for every queued export; raises the first one's error unless told not to."""
        for future in self._futures:
            error = future.exception()
            if error is not None and raise_errors:
                raise error

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


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
    code = main()
    # Every output is written and closed. Leave the objects of pandas, pyarrow, nbconvert... to
    # the operating system: the interpreter's final garbage collection would take ~0.5 s.
    gc.freeze()
    sys.exit(code)
