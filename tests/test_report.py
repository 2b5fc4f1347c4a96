"""Report: executed notebooks combine into one offline HTML file without code inputs."""

from __future__ import annotations

import base64
import json
import re
import struct
import zlib
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output
from tiny_release import proceeding, proceeding_line, write_release

from pdclosures import ingest, report
from pdclosures.errors import UserError


def tiny_png(rgb=(213, 94, 0)) -> str:
    """A 4x4 single-colour PNG, base64 (as a notebook stores image outputs)."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(rgb) * 4 for _ in range(4))
    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
    return base64.b64encode(png).decode()


def executed_notebook(path: Path, n: int) -> Path:
    """A notebook as papermill leaves it: parameters, outputs, execution counts."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["papermill"] = {
        "parameters": {"run": "testrun", "start": "2012-10-01", "end": "2014-03-31", "min_completions": 100}
    }
    nb.cells = [
        new_markdown_cell(f"# Notebook {n}: tiny\n\nNarrative text {n}."),
        new_code_cell('run = "default"', metadata={"tags": ["parameters"]}, execution_count=1),
        new_code_cell('run = "testrun"', metadata={"tags": ["injected-parameters"]}, execution_count=2),
        new_code_cell(
            f"HIDDEN_CODE_{n} = 41 + 1\nprint(HIDDEN_CODE_{n})",
            execution_count=3,
            outputs=[
                new_output("stream", name="stdout", text=f"printed result {n}\n"),
                new_output("stream", name="stderr", text="noisy warning\n"),
            ],
        ),
        new_code_cell(
            f"display_image_{n}()",
            execution_count=4,
            outputs=[new_output("display_data", data={"image/png": tiny_png(), "text/plain": "<img>"})],
        ),
        new_code_cell(
            f"table_{n}",
            execution_count=5,
            outputs=[
                new_output(
                    "execute_result",
                    execution_count=5,
                    data={"text/html": f"<table><tr><td>cell value {n}</td></tr></table>", "text/plain": "table"},
                )
            ],
        ),
    ]
    nbformat.validate(nb)
    nbformat.write(nb, path)
    return path


@pytest.fixture
def report_dir(tmp_path):
    d = tmp_path / "reports" / "testrun"
    d.mkdir(parents=True)
    executed_notebook(d / "01_first.ipynb", 1)
    executed_notebook(d / "02_second.ipynb", 2)
    return d


def test_one_offline_html_without_code(report_dir):
    out = report.build_report(report_dir, report.notebooks_in(report_dir))
    assert out == report_dir / "report.html"
    text = out.read_text(encoding="utf-8")
    # both notebooks, in order, with their outputs
    assert text.index("Notebook 1: tiny") < text.index("Notebook 2: tiny")
    for n in (1, 2):
        assert f"printed result {n}" in text and f"cell value {n}" in text
        assert f"Narrative text {n}" in text
    assert text.count("data:image/png;base64," + tiny_png()) == 2
    # no code inputs, no prompts, no stderr noise
    assert "HIDDEN_CODE" not in text and "display_image_" not in text
    assert 'run = "default"' not in text and "noisy warning" not in text
    assert 'class="jp-InputPrompt' not in text and 'class="jp-OutputPrompt' not in text
    # header listing the run and its notebooks
    assert "run <code>testrun</code>" in text
    assert "01_first.ipynb" in text and "02_second.ipynb" in text
    assert "min_completions" in text
    # offline: no script fetched from the network
    assert not re.search(r"<script[^>]+src=[\"']?(https?:)?//", text, flags=re.I)
    assert "cdnjs" not in text and "unpkg" not in text and "require.min.js" not in text
    assert "<link" not in text or not re.search(r"<link[^>]+href=[\"']?https?://", text, re.I)


def test_cli_rebuilds_report(report_dir, capsys):
    assert report.main([str(report_dir)]) == 0
    assert (report_dir / "report.html").exists()
    assert str(report_dir / "report.html") in capsys.readouterr().out


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert report.main([str(tmp_path / "missing")]) == 2
    assert "report folder not found" in capsys.readouterr().err
    assert report.main([str(tmp_path)]) == 2
    assert "no executed notebooks" in capsys.readouterr().err


def test_empty_list_is_a_user_error(tmp_path):
    with pytest.raises(UserError):
        report.build_report(tmp_path, [])


def styled_table_notebook(path: Path, started: str) -> Path:
    """A notebook as papermill leaves it after a run that started at `started`, showing a pandas Styler."""
    import pandas as pd

    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["papermill"] = {
        "start_time": started,
        "end_time": started,
        "duration": 1.5,
        "parameters": {"run": "again", "processed_dir": f"/tmp/{started}"},
    }
    styled = pd.DataFrame({"court": ["Seattle, WA"], "pd_rate": [0.3]}).style.format({"pd_rate": "{:.1%}"})
    cell = new_code_cell(
        "table",
        execution_count=1,
        outputs=[
            new_output(
                "execute_result", execution_count=1, data={"text/html": styled.to_html(), "text/plain": "Styler"}
            )
        ],
    )
    cell.metadata["execution"] = {"iopub.execute_input": started, "shell.execute_reply": started}
    cell.metadata["papermill"] = {"start_time": started, "end_time": started, "duration": 0.2, "status": "completed"}
    nb.cells = [new_markdown_cell("# Styled"), cell]
    nbformat.write(nb, path)
    return path


def test_the_same_notebooks_run_at_another_time_give_the_same_report(tmp_path):
    reports = []
    for started in ["2024-01-01T10:00:00.000001Z", "2025-06-30T23:59:59.999999Z"]:
        folder = tmp_path / started / "again"
        folder.mkdir(parents=True)
        styled_table_notebook(folder / "01_styled.ipynb", started)
        reports.append(report.build_report(folder, report.notebooks_in(folder)).read_bytes())
    assert reports[0] == reports[1]
    text = reports[0].decode()
    assert "30.0%" in text and "Seattle, WA" in text
    assert "T_00000" in text and "2024-01-01T10" not in text and "/tmp/" not in text


def test_the_header_names_the_run_window_and_release_and_warns_on_the_sample(report_dir):
    run_parameters = {
        "run": "testrun",
        "start": "2011-10-01",
        "end": "2012-09-30",
        "pd_codes": "Y",
        "release": "/somewhere/EOIR Case Data.zip",
        "processed_dir": "/staging/.testrun.tmp",
    }
    sample = SimpleNamespace(
        synthetic=True, release_label="eoir_synthetic_sample.zip", manifest={"data_through": "2015-09-30"}
    )
    text = report.build_report(
        report_dir, report.notebooks_in(report_dir), parameters=run_parameters, ingested=sample
    ).read_text(encoding="utf-8")
    assert "completions from 2011-10-01 to 2012-09-30" in text
    assert "eoir_synthetic_sample.zip (data through 2015-09-30)" in text
    assert 'class="pd-synthetic"' in text and "SYNTHETIC SAMPLE \u2014 NOT REAL DATA" in text
    assert "<code>pd_codes</code></td>\n<td>Y</td>" in text
    assert "EOIR Case Data.zip" in text and "/somewhere" not in text and "/staging" not in text

    real = SimpleNamespace(
        synthetic=False,
        release_label="EOIR Case Data.zip, published 2025-01-15",
        manifest={"data_through": "2024-12-31"},
    )
    text = report.build_report(
        report_dir, report.notebooks_in(report_dir), parameters=run_parameters, ingested=real
    ).read_text(encoding="utf-8")
    assert 'class="pd-synthetic"' not in text
    assert "EOIR Case Data.zip, published 2025-01-15 (data through 2024-12-31)" in text


def test_make_report_takes_the_runs_parameters_and_release_from_its_outputs(tmp_path, capsys):
    root = tmp_path / "project"
    reports = root / "reports" / "myrun"
    reports.mkdir(parents=True)
    executed_notebook(reports / "01_first.ipynb", 1)
    processed = root / "data" / "processed" / "myrun"
    release = write_release(tmp_path / "r.zip", [proceeding_line(proceeding(1))], zipped=True)
    ingest.write_ingest_outputs(ingest.ingest_release(release, tmp_path / "interim", progress=False), processed)
    (processed / "run.json").write_text(
        json.dumps({"parameters": {"run": "myrun", "start": "2013-01-01", "end": "2013-03-31"}})
    )
    assert report.main([str(reports)]) == 0
    assert capsys.readouterr().out == f"{reports / 'report.html'}\n"
    text = (reports / "report.html").read_text(encoding="utf-8")
    assert "run <code>myrun</code>" in text and "completions from 2013-01-01 to 2013-03-31" in text
    assert re.search(r"<strong>Release:</strong> r\.zip, published \d{4}-\d\d-\d\d \(data through 2013-01-15\)", text)
    assert "min_completions" not in text  # the notebook's injected parameters give way to run.json's


def test_each_executed_notebook_is_exported_with_its_code(report_dir):
    written = report.export_notebooks(report.notebooks_in(report_dir))
    assert [p.name for p in written] == ["01_first.html", "02_second.html"]
    text = written[0].read_text(encoding="utf-8")
    assert "HIDDEN_CODE_1" in text and "printed result 1" in text
