"""Report: executed notebooks combine into one offline HTML file without code inputs."""

from __future__ import annotations

import base64
import re
import struct
import zlib
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from pdclosures import report
from pdclosures.errors import UserError


def tiny_png(rgb=(213, 94, 0)) -> str:
    """A 4x4 single-colour PNG, base64 (as a notebook stores image outputs)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    raw = b"".join(b"\x00" + bytes(rgb) * 4 for _ in range(4))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode()


def executed_notebook(path: Path, n: int) -> Path:
    """A notebook as papermill leaves it: parameters, outputs, execution counts."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["papermill"] = {"parameters": {"run": "testrun", "start": "2012-10-01",
                                               "end": "2014-03-31", "min_completions": 100}}
    nb.cells = [
        new_markdown_cell(f"# Notebook {n}: tiny\n\nNarrative text {n}."),
        new_code_cell('run = "default"', metadata={"tags": ["parameters"]}, execution_count=1),
        new_code_cell('run = "testrun"', metadata={"tags": ["injected-parameters"]},
                      execution_count=2),
        new_code_cell(f"HIDDEN_CODE_{n} = 41 + 1\nprint(HIDDEN_CODE_{n})", execution_count=3,
                      outputs=[new_output("stream", name="stdout", text=f"printed result {n}\n"),
                               new_output("stream", name="stderr", text="noisy warning\n")]),
        new_code_cell(f"display_image_{n}()", execution_count=4,
                      outputs=[new_output("display_data",
                                          data={"image/png": tiny_png(), "text/plain": "<img>"})]),
        new_code_cell(f"table_{n}", execution_count=5,
                      outputs=[new_output("execute_result", execution_count=5,
                                          data={"text/html": f"<table><tr><td>cell value {n}"
                                                             "</td></tr></table>",
                                                "text/plain": "table"})]),
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


def test_notebook_03_is_committed_clean():
    """The figures notebook is thin, without outputs, with one `parameters` cell."""
    path = Path(__file__).resolve().parents[1] / "notebooks" / "03_figures.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.outputs == [] and c.execution_count is None for c in code)
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    ns: dict = {}
    exec(tagged[0].source, ns)
    expected = dict(release="", start="2012-10-01", end="2014-03-31", run="default",
                    pd_codes="Y,M,I", excluded_codes="C,T", unit="proceeding", case_types="all",
                    min_completions=100, processed_dir="../data/processed/default",
                    figures_dir="../figures/default")
    for key, value in expected.items():
        assert ns[key] == value, key
    assert any("render_all" in c.source for c in code)
    assert any("SYNTHETIC" in c.source.upper() for c in nb.cells if c.cell_type == "markdown")


def test_warm_up_then_build_gives_the_same_report(report_dir):
    first = report.build_report(report_dir, report.notebooks_in(report_dir)).read_text(encoding="utf-8")
    report.warm_up()
    again = report.build_report(report_dir, report.notebooks_in(report_dir)).read_text(encoding="utf-8")
    assert again == first
