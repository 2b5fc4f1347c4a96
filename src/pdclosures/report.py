"""reports/<RUN>/report.html: a run's executed notebooks in one offline HTML file, code hidden.

The report is a header (the run, its window and release, and a warning when the release is the
synthetic sample); then, when the run's outputs are given, the reader's part built from them
(report_reader.py: the answer, charts with hover, sortable and searchable tables); then the
run's parameters; then each notebook's text and outputs in order, exported once with nbconvert.
It loads nothing from the network (the table and chart libraries' JavaScript is embedded), and
the same notebooks and outputs give the same bytes: the timestamps papermill and nbclient record
are left out, and pandas' random table ids are numbered in order. Each executed notebook is also
exported on its own, code included.

CLI (``make report``): ``python -m pdclosures.report reports/<RUN>`` rebuilds report.html from the
executed notebooks in that folder, with the run's parameters and release from data/processed/<RUN>/.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import re
import sys
from pathlib import Path

import nbformat

from . import ingest, report_reader
from .errors import ReleaseError, UserError

REPORT_NAME = "report.html"

# JupyterLab's template without the scripts it would fetch from a CDN: the report renders offline.
TEMPLATE = r"""
{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block extra_css -%}
<style type="text/css">
  body.jp-Notebook { max-width: 1180px; margin: 0 auto; padding: 1.5em 2em 4em 2em; }
  .jp-OutputArea-output img, .jp-RenderedImage img, .jp-RenderedMarkdown img { max-width: 100%; height: auto; }
  .pd-report-separator { border-top: 3px solid #0072B2; margin-top: 2.5em; padding-top: 0.3em;
    color: #555; font-size: 0.9em; letter-spacing: 0.02em; }
  .pd-synthetic { border: 2px solid #D55E00; background: #FDEFE6; padding: 0.6em 1em; }
</style>
{%- endblock extra_css -%}
"""

# Cells left out of the report: parameter plumbing, not content.
SKIP_TAGS = {"parameters", "injected-parameters", "remove-cell", "remove_cell", "hide-report"}
# Cell metadata papermill and nbclient write on every run (start and end times, durations).
RUN_METADATA = ("papermill", "execution")
# pandas' Styler names each table's CSS after a random id (T_ and five hex digits).
STYLER_ID = re.compile(r"\bT_[0-9a-f]{5}(?=[_\"'\s{])")


def notebooks_in(report_dir: Path) -> list[Path]:
    """The executed notebooks of a report folder, in name order."""
    return sorted(p for p in Path(report_dir).glob("*.ipynb") if p.is_file() and not p.name.startswith("."))


def export_notebooks(notebooks: list[Path]) -> list[Path]:
    """Each executed notebook as it ran, code included, beside it as .html."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter()
    written = []
    for path in notebooks:
        notebook = _read(path)
        for cell in notebook.cells:
            if "injected-parameters" in cell.metadata.get("tags", []):
                cell.id = "injected-parameters"  # papermill gives it a random id on every run
        body, _ = exporter.from_notebook_node(notebook)
        written.append(path.with_suffix(".html"))
        written[-1].write_text(_number_styler_ids(body), encoding="utf-8")
    return written


def build_report(
    report_dir: Path,
    notebooks: list[Path],
    *,
    parameters: dict | None = None,
    ingested: ingest.IngestResult | None = None,
    processed: Path | None = None,
) -> Path:
    """Write report_dir/report.html from the executed notebooks, in the order given.

    `parameters` are the run's (run.json's); without them, those papermill injected into the notebooks.
    `ingested` names the release and says whether it is the synthetic sample. `processed` is the
    run's output folder (its CSVs): the reader's part (the answer, charts, tables) is built from it."""
    from nbconvert import HTMLExporter

    report_dir = Path(report_dir)
    if not notebooks:
        raise UserError(f"{report_dir}: no executed notebooks (*.ipynb) for the report")
    loaded = [(Path(path), _read(Path(path))) for path in notebooks]
    if parameters is None:
        parameters = {}
        for _, notebook in loaded:
            parameters.update(notebook.metadata.get("papermill", {}).get("parameters", {}))
    combined = nbformat.v4.new_notebook()
    combined.metadata.update(
        {
            key: copy.deepcopy(loaded[0][1].metadata[key])
            for key in ("kernelspec", "language_info")
            if key in loaded[0][1].metadata
        }
    )
    run = str(parameters.get("run") or report_dir.name)
    combined.metadata["title"] = f"PD closures report \u2014 {run}"
    combined.cells.append(_header_cell(run, parameters, ingested))
    if report_reader.available(processed):
        outputs = report_reader.Outputs(processed, parameters, ingested)
        combined.cells.append(_html_cell(report_reader.reader_html(outputs)))
    combined.cells.append(_about_cell(parameters, loaded))
    for number, (path, notebook) in enumerate(loaded, 1):
        combined.cells.append(
            nbformat.v4.new_markdown_cell(
                f'<div class="pd-report-separator">Part {number} of {len(loaded)} \u00b7 {html.escape(path.name)}</div>'
            )
        )
        combined.cells.extend(cell for cell in map(_shown_cell, notebook.cells) if cell is not None)
    for number, cell in enumerate(combined.cells):
        cell["id"] = f"report-cell-{number:04d}"  # unique across the merged notebooks
    exporter = HTMLExporter(
        template_name="lab",
        raw_template=TEMPLATE,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        exclude_anchor_links=True,
    )
    body, _ = exporter.from_notebook_node(combined, resources={"metadata": {"path": str(report_dir), "name": "report"}})
    out = report_dir / REPORT_NAME
    out.write_text(_number_styler_ids(body), encoding="utf-8")
    return out


def _read(path: Path) -> nbformat.NotebookNode:
    try:
        return nbformat.read(str(path), as_version=4)
    except FileNotFoundError:
        raise UserError(f"{path}: notebook not found") from None
    except Exception as error:  # nbformat raises several kinds for a damaged file
        raise UserError(f"{path}: not a readable notebook ({type(error).__name__})") from None


def _html_cell(text: str) -> nbformat.NotebookNode:
    """A cell that shows `text` as HTML (its code hidden like every cell's)."""
    return nbformat.v4.new_code_cell(
        "", outputs=[nbformat.v4.new_output("display_data", data={"text/html": text, "text/plain": ""})]
    )


def _header_cell(run: str, parameters: dict, ingested) -> nbformat.NotebookNode:
    lines = [f"# Prosecutorial-discretion closures in immigration court: run `{run}`", ""]
    if ingested is not None and ingested.synthetic:
        lines += [
            '<div class="pd-synthetic"><b>SYNTHETIC SAMPLE \u2014 NOT REAL DATA.</b> This run used the '
            "synthetic release generated by <code>pdclosures.sample</code>: every number and figure in this "
            "report is made up and only shows that the pipeline works. Never quote it as EOIR data.</div>",
            "",
        ]
    if parameters.get("start") and parameters.get("end"):
        lines.append(f"**Window:** completions from {parameters['start']} to {parameters['end']}, both inclusive.  ")
    if ingested is not None:
        lines.append(
            f"**Release:** {html.escape(ingested.release_label)} "
            f"(data through {ingested.manifest.get('data_through') or 'unknown'})."
        )
    return nbformat.v4.new_markdown_cell("\n".join(lines))


def _about_cell(parameters: dict, loaded) -> nbformat.NotebookNode:
    lines = [
        "## About this run",
        "",
        "Code is hidden; each part below is one of the run's notebooks, executed.",
        "",
    ]
    shown = {key: value for key, value in parameters.items() if not key.endswith("_dir")}  # staging paths
    if shown.get("release"):
        shown["release"] = Path(str(shown["release"])).name
    if shown:
        lines += ["| Parameter | Value |", "| --- | --- |"]
        for key in sorted(shown):
            value = html.escape(str(shown[key])).replace("|", "\\|")
            lines.append(f"| `{key}` | {value or '(empty)'} |")
        lines.append("")
    lines += ["Notebooks in this report:", ""]
    lines += [
        f"{number}. {html.escape(_title(notebook, path))} (`{path.name}`)"
        for number, (path, notebook) in enumerate(loaded, 1)
    ]
    return nbformat.v4.new_markdown_cell("\n".join(lines))


def _title(notebook, path: Path) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return path.stem


def _shown_cell(cell):
    """The cell as the report shows it, or None: no code, no stderr, no per-run timestamps."""
    if set(cell.get("metadata", {}).get("tags", [])) & SKIP_TAGS:
        return None
    cell = copy.deepcopy(cell)
    for key in RUN_METADATA:
        cell.metadata.pop(key, None)
    if cell.cell_type == "code":
        # stderr is warnings and progress bars: noise for a reader (and progress bars vary run to run)
        cell.outputs = [out for out in cell.outputs if not (out.output_type == "stream" and out.name == "stderr")]
        if not cell.outputs:
            return None
        cell.source = ""  # hidden anyway; kept out of the file
    return cell


def _number_styler_ids(body: str) -> str:
    """Replace each random pandas Styler table id with T_ and its number in the report, so that the
    same notebooks give the same bytes."""
    numbers: dict[str, str] = {}
    return STYLER_ID.sub(lambda match: numbers.setdefault(match[0], f"T_{len(numbers):05d}"), body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pdclosures.report",
        description="Rebuild REPORT_DIR/report.html from the executed notebooks in it.",
    )
    parser.add_argument("report_dir", type=Path, help="reports/<RUN>")
    parser.add_argument("--processed", type=Path, help="the run's outputs (default: data/processed/<RUN> beside it)")
    args = parser.parse_args(argv)
    try:
        if not args.report_dir.is_dir():
            raise UserError(f"{args.report_dir}: report folder not found")
        root = args.report_dir.resolve().parent.parent
        processed = args.processed or root / "data" / "processed" / args.report_dir.resolve().name
        out = build_report(args.report_dir, notebooks_in(args.report_dir), **_run_facts(processed))
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(out)
    return 0


def _run_facts(processed: Path) -> dict:
    """The parameters (run.json), release (ingest.json) and outputs of a published run, where there are."""
    facts = {"processed": processed}
    if (processed / "run.json").is_file():
        facts["parameters"] = json.loads((processed / "run.json").read_text())["parameters"]
    try:
        facts["ingested"] = ingest.load_ingest(processed)
    except ReleaseError:
        pass
    return facts


if __name__ == "__main__":
    sys.exit(main())
