"""Report: executed notebooks combine into one offline HTML file without code inputs."""

from __future__ import annotations

import base64
import html
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


# --------------------------------------------------------------------------------------------
# The reader's part: the answer first, charts with hover, sortable tables (report_reader.py)


def run_outputs(folder: Path) -> Path:
    """A run's CSVs, as 02_rates and 04_validate write them, for four courts and three months."""
    folder.mkdir(parents=True)
    rate = "pd_closures,completions,pd_rate,ci_low,ci_high"
    (folder / "national.csv").write_text(f"start,end,{rate}\n2012-10-01,2012-12-31,60,1000,0.06,0.047,0.076\n")
    (folder / "courts.csv").write_text(
        f"base_city_code,court,state,{rate}\n"
        'TUC,"Tucson, AZ",AZ,30,100,0.3,0.22,0.39\n'
        'SEA,"Seattle, WA",WA,20,200,0.1,0.066,0.149\n'
        'HOU,"Houston, TX",TX,10,650,0.015385,0.0084,0.0281\n'
        'XYZ,"(unknown code XYZ)",,0,50,0.0,0.0,0.0711\n'
    )
    (folder / "months.csv").write_text(
        f"month,fiscal_year,{rate}\n2012-10,2013,20,300,0.066667,0.0435,0.1008\n"
        "2012-11,2013,40,700,0.057143,0.0423,0.0768\n2012-12,2013,0,0,,,\n"
    )
    (folder / "states.csv").write_text(f"state,{rate}\nAZ,30,100,0.3,0.22,0.39\n")
    (folder / "circuits.csv").write_text(f"circuit,{rate}\n9,50,300,0.166667,0.129,0.212\n")
    (folder / "fiscal_years.csv").write_text(
        f"fiscal_year,period_start,period_end,partial,{rate}\n2013,2012-10-01,2012-12-31,True,60,1000,0.06,0.047,0.076\n"
    )
    (folder / "hearing_locations.csv").write_text(
        f"hearing_loc_code,hearing_location,hearing_city,hearing_state,base_city_code,court,{rate}\n"
        'TUC,TUCSON IMMIGRATION COURT,TUCSON,AZ,TUC,"Tucson, AZ",30,100,0.3,0.22,0.39\n'
    )
    (folder / "nationalities.csv").write_text(
        f"nat,nationality,{rate}\nMX,MEXICO,50,800,0.0625,0.048,0.081\nNA,NETHERLANDS ANTILLES,0,3,0.0,0.0,0.5615\n"
    )
    (folder / "custody.csv").write_text(f"custody,custody_status,{rate}\nD,Detained,10,300,0.033333,0.018,0.06\n")
    (folder / "validation.csv").write_text(
        "source,url,published,window_start,window_end,geography,metric,published_value,computed_value,difference,"
        "tolerance,status,basis,detail,note\n"
        "TRAC bulletin,u,2014-04-24,2012-10-01,2012-12-31,national,pd_rate_pct,6.0,6.0,0.0,±0.05,pass,national.csv,,\n"
        "TRAC bulletin,u,2014-04-24,2012-10-01,2012-12-31,court:TUC,pd_rate_pct,26.0,30.0,4.0,±0.05,fail,"
        "courts.csv TUC,,Tucson\n"
        "TRAC report 278,u,2012-04,2011-10-01,2012-03-28,national,pd_closures,2609,,,exact,not computable,,"
        "another window,\n"
    )
    return folder


READER_PARAMETERS = {
    "run": "testrun",
    "start": "2012-10-01",
    "end": "2012-12-31",
    "pd_codes": "Y,M,I",
    "excluded_codes": "C,T",
    "case_types": "all",
    "unit": "proceeding",
    "min_completions": 100,
}


def test_the_report_opens_with_the_answer_built_from_the_runs_outputs(report_dir, tmp_path):
    processed = run_outputs(tmp_path / "processed")
    sample = SimpleNamespace(synthetic=True, release_label="sample.zip", manifest={"data_through": "2015-09-30"})
    text = report.build_report(
        report_dir,
        report.notebooks_in(report_dir),
        parameters=READER_PARAMETERS,
        ingested=sample,
        processed=processed,
    ).read_text(encoding="utf-8")
    plain = re.sub(r"<[^>]+>", "", text)

    marks = ('class="pd-synthetic"', "<h2>The answer</h2>", "<h2>Figures</h2>", "<h2>Tables</h2>", ">About this run<")
    order = [text.index(s) for s in (*marks, "Part 1 of 2")]
    assert order == sorted(order)
    assert "6.0% of the cases completed in immigration court from 2012-10-01 to 2012-12-31" in plain
    assert "60 PD closures of 1,000 completions; 95% interval 4.7–7.6%" in plain
    assert "PD closure = OTHER_COMP in {Y, M, I}; completions exclude OTHER_COMP C, T" in plain
    # highest and lowest among the 3 courts with at least 100 completions; the 50-completion court is left out
    answer = plain[plain.index("Highest and lowest courts") : plain.index("Validation against")]
    assert answer.index("Tucson, AZ") < answer.index("Houston, TX")
    assert "(unknown code XYZ)" not in answer and "Among the 3 courts with at least 100 completions" in answer
    assert "1 pass, 1 fail, 1 not computable" in plain
    assert "TRAC bulletin, court:TUC pd_rate_pct: published 26.0, computed 30.0 (Tucson)" in plain
    assert "SYNTHETIC SAMPLE: these numbers come from generated data" in plain

    # tables: every court, with rates as percentages beside counts and intervals
    for table in ("courts", "hearing-locations", "states", "circuits", "fiscal-years", "months", "validation"):
        assert f'id="pd-table-{table}"' in text
    # nationalities and custody (no case_types.csv in this run: that table is left out); NA is a code, not empty
    assert 'id="pd-table-nationalities"' in text and 'id="pd-table-custody"' in text
    assert 'id="pd-table-case-types"' not in text
    assert "NETHERLANDS ANTILLES" in text and '"NA"' in text
    assert "(unknown code XYZ)" in text and "30.0%" in text and "22.0–39.0%" in text
    # charts with hover; each library's JavaScript embedded once, nothing fetched
    assert 'id="pd-chart-courts"' in text and 'id="pd-chart-months"' in text and "95% interval %{customdata[2]}" in text
    assert text.count("window._itables_") >= 1 and text.count('injectModule("') == 1
    assert len(re.findall(r"\* plotly\.js v\d", text)) == 1
    assert not re.search(r"<script[^>]+src=", text, flags=re.I)
    assert not re.search(r"<link[^>]+href=[\"']?https?://", text, re.I)


def test_the_readers_part_gives_the_same_bytes_every_time(tmp_path):
    reports = []
    for attempt in ("one", "two"):
        folder = tmp_path / attempt / "again"
        folder.mkdir(parents=True)
        executed_notebook(folder / "01_first.ipynb", 1)
        processed = run_outputs(tmp_path / attempt / "processed")
        reports.append(
            report.build_report(
                folder, report.notebooks_in(folder), parameters=READER_PARAMETERS, processed=processed
            ).read_bytes()
        )
    assert reports[0] == reports[1]
    assert b'class="pd-synthetic"' not in reports[0] and b"SYNTHETIC SAMPLE" not in reports[0]


def test_without_the_runs_outputs_the_report_is_the_notebooks(report_dir, tmp_path):
    text = report.build_report(report_dir, report.notebooks_in(report_dir), processed=tmp_path / "none").read_text()
    assert "The answer" not in text and "pd-table-courts" not in text and "Notebook 1: tiny" in text


def test_the_runs_warnings_stand_before_the_rate_they_qualify_marked_not_a_finding(tmp_path):
    from pdclosures import eras, report_reader

    processed = run_outputs(tmp_path / "processed")
    guard = "warning: 0.5 PD closures a month under pd-closures in 2012-10-01 to 2012-12-31 (fewer than 100 a month)"
    eras.write_warnings([guard], processed)
    text = report_reader.answer_html(report_reader.Outputs(processed, READER_PARAMETERS))
    shown = f'<div class="pd-warning pd-run-warning"><b>{html.escape(guard)}</b></div>'
    headline = text.index('<p class="pd-headline">')
    assert text.index("<h2>The answer</h2>") < text.index(shown) < headline < text.index("<b>Window:</b>")
    assert text[headline:].startswith(
        '<p class="pd-headline"><span class="pd-not-a-finding">Not a finding (see the warning above):</span> '
    )
    assert text.count(html.escape(guard)) == 1 and "<h3>Warnings</h3>" not in text  # said once, up front
    unwarned = report_reader.answer_html(report_reader.Outputs(run_outputs(tmp_path / "plain"), READER_PARAMETERS))
    assert "Not a finding" not in unwarned and "pd-run-warning" not in unwarned


def test_on_the_synthetic_sample_the_validation_says_it_only_shows_the_mechanics(tmp_path):
    from types import SimpleNamespace

    from pdclosures import report_reader

    processed = run_outputs(tmp_path / "processed")
    said = "On the synthetic sample this only shows the mechanics"
    sample = SimpleNamespace(synthetic=True, manifest={})
    assert said in report_reader.answer_html(report_reader.Outputs(processed, READER_PARAMETERS, sample))
    assert said not in report_reader.answer_html(report_reader.Outputs(processed, READER_PARAMETERS))
