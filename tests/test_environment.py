"""environment.yml (for conda users) and requirements-lock.txt (used by make) pin the same versions."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def pins(lines) -> dict[str, str]:
    found = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if "==" in line:
            name, version = line.split("==")
            found[name.strip().lower().replace("_", "-")] = version.strip()
    return found


def test_environment_yml_pins_match_the_lock():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    conda_pins = pins(pip_section)
    lock = pins((ROOT / "requirements-lock.txt").read_text().splitlines())
    assert conda_pins, "environment.yml pins nothing"
    mismatched = {name: (version, lock.get(name)) for name, version in conda_pins.items() if lock.get(name) != version}
    assert not mismatched, f"environment.yml and requirements-lock.txt disagree: {mismatched}"


def test_the_lock_has_the_packages_the_project_needs():
    lock = pins((ROOT / "requirements-lock.txt").read_text().splitlines())
    for name in ["jupyterlab", "pandas", "matplotlib", "seaborn", "papermill", "duckdb", "pyarrow", "pytest"]:
        assert name in lock, name
