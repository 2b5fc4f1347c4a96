"""The three dependency lists agree: pyproject.toml (what `pip install .` installs, with lower bounds),
requirements-lock.txt (the exact versions `make setup` installs) and environment.yml (the same pins for conda).
And every target the Makefile declares has a rule and a line in `make help`."""

import re
import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]

# conda-forge names that differ from the PyPI name of the same package
CONDA_TO_PYPI = {
    "python-duckdb": "duckdb",
    "matplotlib-base": "matplotlib",
    "seaborn-base": "seaborn",
    "nbconvert-core": "nbconvert",
}


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lines, separator="==") -> dict[str, str]:
    found = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if separator in line:
            name, version = line.split(separator)
            found[normalize(name.strip())] = version.strip()
    return found


def lock() -> dict[str, str]:
    return pins((ROOT / "requirements-lock.txt").read_text().splitlines())


def environment() -> tuple[dict[str, str], dict[str, str]]:
    """(conda pins by PyPI name, pip pins) of environment.yml."""
    dependencies = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    conda = pins([d for d in dependencies if isinstance(d, str) and not d.startswith("python=")])
    pip = pins(next(d["pip"] for d in dependencies if isinstance(d, dict)))
    return {CONDA_TO_PYPI.get(name, name): version for name, version in conda.items()}, pip


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_pins_parse_names_the_way_pip_compares_them():
    assert pins(["PyYAML==6.0.4", "jupyter_core==5.9.1  # why", "# zipfile-x==1", "pandas>=2"]) == {
        "pyyaml": "6.0.4",
        "jupyter-core": "5.9.1",
    }


def test_environment_yml_pins_the_versions_of_the_lock():
    conda, pip = environment()
    assert len(conda) >= 10 and pip, "environment.yml pins next to nothing"
    assert not set(conda) & set(pip), "a package comes from both conda and pip"
    locked = lock()
    mismatched = {
        name: (version, locked.get(name)) for name, version in {**conda, **pip}.items() if locked.get(name) != version
    }
    assert not mismatched, f"environment.yml and requirements-lock.txt disagree (yml, lock): {mismatched}"


def test_every_dependency_in_pyproject_is_pinned_in_the_lock_within_its_bounds():
    project = pyproject()
    requirements = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
    assert len(project["dependencies"]) >= 10, "pyproject.toml declares next to no runtime dependencies"
    locked = lock()
    missing = [str(r) for r in requirements if normalize(r.name) not in locked]
    assert not missing, f"not pinned in requirements-lock.txt: {missing}"
    outside = {
        str(r): locked[normalize(r.name)]
        for r in requirements
        if not r.specifier.contains(locked[normalize(r.name)], prereleases=True)
    }
    assert not outside, f"the lock pins a version pyproject.toml excludes: {outside}"


def test_the_conda_environment_has_every_dependency_of_pyproject():
    conda, pip = environment()
    project = pyproject()
    names = [normalize(Requirement(r).name) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
    assert [name for name in names if name not in conda and name not in pip] == []


def test_every_declared_make_target_has_a_rule_and_a_help_line():
    makefile = (ROOT / "Makefile").read_text().replace("\\\n", " ")  # join continued lines
    phony = re.search(r"^\.PHONY:(.*)$", makefile, re.M).group(1).split()
    documented = set(re.findall(r"^([a-z-]+):[^=\n]*## ", makefile, re.M))
    assert {
        "all",
        "test",
        "test-fast",
        "lint",
        "lab",
        "report",
        "download",
        "bench-data",
        "bench",
        "bench-smoke",
        "fix",
        "reproduce",
        "setup",
        "clean",
        "clean-cache",
        "help",
    } <= set(phony)
    assert sorted(set(phony) - documented) == [], "declared .PHONY without a documented rule"
    assert sorted(documented - set(phony)) == [], "a documented target is missing from .PHONY"
