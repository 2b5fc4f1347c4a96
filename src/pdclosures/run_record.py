"""run.json: what a run ran, on which release, with which code, and how long it took.

Written by the runner (pipeline.py) for `make all` and `make compare`, into the run's processed folder.
"""

from __future__ import annotations

import datetime as dt
import json
import platform
import re
import subprocess
from importlib import metadata
from pathlib import Path

from . import __version__, eras, ingest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SYNTHETIC_WARNING = "SYNTHETIC SAMPLE: these numbers come from generated data, not from EOIR records."
# Recorded in run.json, beside the runtime dependencies pyproject.toml declares.
RECORDED = ["duckdb", "pyarrow", "pandas", "numpy", "matplotlib", "papermill", "nbconvert", "nbclient", "ipykernel"]
# The release's facts that run.json repeats from the ingest record.
RELEASE_FACTS = (
    "release_id release_name release_date data_from data_through synthetic checksum_sha256 checksum_of".split()
)


def write_run_json(processed: Path, values: dict, release: Path, ingested: ingest.IngestResult, timings: dict) -> Path:
    """run.json: what was run, on what, with which code, how the rows were accounted for, how long it took."""
    facts = ingested.manifest
    record = {
        "parameters": {key: values[key] for key in sorted(values)},
        "release": release_facts(facts),
        "release_path": str(release),
        "synthetic_sample": ingested.synthetic,
        **provenance(),
        "row_accounting": facts.get("accounting", []),
        "warnings": eras.read_warnings(processed),  # notebook 02's: the window's coverage and the guard
    }
    return write_record(processed, record, timings, ingested.synthetic)


def release_facts(manifest: dict) -> dict:
    """What run.json records of a release, from its cache's manifest."""
    return {key: manifest.get(key) for key in RELEASE_FACTS}


def provenance() -> dict:
    """The code, Python and dependency versions a run used (run.json)."""
    return {
        "code": {"package": "pdclosures", "version": __version__, "git_commit": _git_commit()},
        "python": platform.python_version(),
        "dependencies": dependency_versions(),
    }


def write_record(processed: Path, record: dict, timings: dict, synthetic: bool) -> Path:
    """Write run.json: the record, then the timings, the finishing time and the synthetic warning."""
    record = {
        **record,
        "timings_seconds": timings,
        "finished_utc": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if synthetic:
        record["warning"] = SYNTHETIC_WARNING
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
