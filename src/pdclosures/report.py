"""One readable, offline HTML report from a run's executed notebooks.

``build_report(report_dir, notebooks)`` merges the executed notebooks (in the order given) into
one notebook, with a title/header cell listing the run and a separator before each notebook,
and exports it once with nbconvert's HTML exporter: code inputs and prompts hidden, images
embedded (notebook image outputs are already base64), and no script loaded from the network
(require.js, MathJax, Mermaid and widget managers are left out, so LaTeX in markdown shows as
plain TeX).

CLI (this is ``make report``)::

    python -m pdclosures.report REPORT_DIR

rebuilds REPORT_DIR/report.html from the executed ``*.ipynb`` files in REPORT_DIR, sorted by
name (01_..., 02_..., 03_...).
"""

from __future__ import annotations

import argparse
import copy
import functools
import html
import sys
from pathlib import Path
from typing import Sequence


def import_jsonschema_without_iri_checks() -> None:
    """Import jsonschema (nbformat's validator) without rfc3987_syntax: saves ~2.5 s per process.

    jsonschema imports rfc3987_syntax, when installed, only to check the "iri" string formats,
    and that import compiles an Earley grammar (2.5-3 s). No notebook schema uses those formats.
    The block lasts only for this import: rfc3987_syntax stays importable for anything else."""
    if "jsonschema" in sys.modules or "rfc3987_syntax" in sys.modules:
        return
    sys.modules["rfc3987_syntax"] = None  # makes `import rfc3987_syntax` raise ImportError
    try:
        import jsonschema  # noqa: F401
    finally:
        del sys.modules["rfc3987_syntax"]


# Before nbformat, which imports jsonschema: `make report` and the pipeline both start here.
import_jsonschema_without_iri_checks()
import nbformat  # noqa: E402

from .errors import UserError  # noqa: E402

REPORT_NAME = "report.html"

# Extends JupyterLab's HTML template and empties every block that would fetch a script from a
# CDN. Inline CSS (the lab theme) stays, so the file renders fully offline.
TEMPLATE = r"""
{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block extra_css -%}
<style type="text/css">
  body.jp-Notebook { max-width: 1180px; margin: 0 auto; padding: 1.5em 2em 4em 2em; }
  .jp-OutputArea-output img, .jp-RenderedImage img, .jp-RenderedMarkdown img {
    max-width: 100%; height: auto; }
  .pd-report-separator { border-top: 3px solid #0072B2; margin-top: 2.5em; padding-top: 0.3em;
    color: #555; font-size: 0.9em; letter-spacing: 0.02em; }
</style>
{%- endblock extra_css -%}
"""

# Cell tags whose cells are left out of the report (parameter plumbing, not content).
SKIP_TAGS = {"parameters", "injected-parameters", "remove-cell", "remove_cell", "hide-report"}


def _read(path: Path) -> nbformat.NotebookNode:
    try:
        return nbformat.read(str(path), as_version=4)
    except FileNotFoundError as exc:
        raise UserError(f"{path}: notebook not found") from exc
    except Exception as exc:  # nbformat raises several kinds for a damaged file
        raise UserError(f"{path}: not a readable notebook ({exc})") from exc


def _parameters(nb) -> dict:
    """The parameters papermill injected into an executed notebook (empty if none)."""
    return dict(nb.metadata.get("papermill", {}).get("parameters", {}) or {})


def _title(nb, path: Path) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return path.stem


def _keep_output(out) -> bool:
    # stderr (warnings, progress bars) is noise for a reader; errors and results stay
    return not (out.get("output_type") == "stream" and out.get("name") == "stderr")


def _clean_cell(cell):
    cell = copy.deepcopy(cell)
    tags = set(cell.get("metadata", {}).get("tags", []))
    if tags & SKIP_TAGS:
        return None
    if cell.cell_type == "code":
        cell.outputs = [o for o in cell.get("outputs", []) if _keep_output(o)]
        if not cell.outputs:
            return None  # nothing to show once the input is hidden
        cell.source = ""  # inputs are excluded anyway; keep them out of the file entirely
    cell.get("metadata", {}).pop("papermill", None)
    return cell


def _header_cell(run: str, report_dir: Path, params: dict, entries: list[tuple[Path, str]]):
    lines = [f"# Prosecutorial-discretion closures in immigration court: run `{run}`", ""]
    lines.append(
        "This report combines the run's executed notebooks; code is hidden. Figures and "
        "tables come from the EOIR case-data release named in each notebook. If the run used "
        "the **synthetic sample**, every number in it is made up and the figures are stamped "
        "*SYNTHETIC SAMPLE \u2014 NOT REAL DATA*."
    )
    lines.append("")
    shown = {k: v for k, v in params.items() if not k.endswith("_dir")}  # staging paths
    if "release" in shown and shown["release"]:
        shown["release"] = Path(str(shown["release"])).name
    if shown:
        lines.append("| Parameter | Value |")
        lines.append("| --- | --- |")
        for key in sorted(shown):
            value = str(shown[key]).replace("|", "\\|")
            lines.append(f"| `{key}` | {html.escape(value) if value else '(empty)'} |")
        lines.append("")
    lines.append("Notebooks in this report:")
    lines.append("")
    for i, (path, title) in enumerate(entries, 1):
        lines.append(f"{i}. {html.escape(title)} (`{path.name}`)")
    return nbformat.v4.new_markdown_cell("\n".join(lines))


def combine_notebooks(report_dir: Path, notebooks: Sequence[Path]) -> nbformat.NotebookNode:
    """One notebook: a header cell, then each notebook's cells after a separator cell."""
    report_dir = Path(report_dir)
    loaded = [(Path(p), _read(Path(p))) for p in notebooks]
    params: dict = {}
    for _, nb in loaded:
        params = _parameters(nb)
        if params:
            break
    run = str(params.get("run") or report_dir.name)
    entries = [(path, _title(nb, path)) for path, nb in loaded]

    combined = nbformat.v4.new_notebook()
    if loaded:
        first = loaded[0][1].metadata
        for key in ("kernelspec", "language_info"):
            if key in first:
                combined.metadata[key] = copy.deepcopy(first[key])
    combined.metadata["title"] = f"PD closures report \u2014 {run}"
    combined.cells.append(_header_cell(run, report_dir, params, entries))
    for i, ((path, nb), (_, title)) in enumerate(zip(loaded, entries), 1):
        combined.cells.append(nbformat.v4.new_markdown_cell(
            f'<div class="pd-report-separator">Part {i} of {len(loaded)} \u00b7 '
            f"{html.escape(path.name)}</div>"))
        for cell in nb.cells:
            cleaned = _clean_cell(cell)
            if cleaned is not None:
                combined.cells.append(cleaned)
    for n, cell in enumerate(combined.cells):
        cell["id"] = f"report-cell-{n:04d}"  # ids must be unique across the merged notebooks
    return combined


@functools.lru_cache(maxsize=1)
def _shared_exporter():
    """One exporter for the process: its templates are compiled on first use (~0.3 s)."""
    return exporter()


def warm_up() -> None:
    """Compile the report's templates now (e.g. in a background thread while notebooks run), so
    that build_report does not pay for it. Not thread-safe: finish before build_report starts."""
    _shared_exporter().from_notebook_node(nbformat.v4.new_notebook())


def exporter():
    """nbconvert HTML exporter: no code inputs or prompts, images embedded, no CDN scripts."""
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name="lab",
        raw_template=TEMPLATE,
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        exclude_anchor_links=True,
    )


def build_report(report_dir: Path, notebooks: list[Path]) -> Path:
    """Write report_dir/report.html combining the executed notebooks; returns its path."""
    report_dir = Path(report_dir)
    if not notebooks:
        raise UserError(f"{report_dir}: no executed notebooks to put in the report")
    report_dir.mkdir(parents=True, exist_ok=True)
    combined = combine_notebooks(report_dir, notebooks)
    body, _ = _shared_exporter().from_notebook_node(
        combined, resources={"metadata": {"path": str(report_dir), "name": "report"}})
    out = report_dir / REPORT_NAME
    out.write_text(body, encoding="utf-8")
    return out


def notebooks_in(report_dir: Path) -> list[Path]:
    """The executed notebooks of a report folder, in name order."""
    return sorted(p for p in Path(report_dir).glob("*.ipynb")
                  if p.is_file() and not p.name.startswith("."))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pdclosures.report",
        description="Rebuild REPORT_DIR/report.html from the executed notebooks in REPORT_DIR.")
    parser.add_argument("report_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        if not args.report_dir.is_dir():
            raise UserError(f"{args.report_dir}: report folder not found")
        notebooks = notebooks_in(args.report_dir)
        if not notebooks:
            raise UserError(f"{args.report_dir}: no executed notebooks (*.ipynb) in this folder")
        out = build_report(args.report_dir, notebooks)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
