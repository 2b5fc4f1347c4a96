"""The reader's part of report.html: the answer first, then charts with hover and sortable tables.

Built from the run's outputs in data/processed/<RUN>/ (the CSVs, run.json when it is there,
ingest.json), never by reading the notebooks. Everything is HTML for one offline file:

- the answer: window, definition, national rate with its counts and 95% interval, the highest and
  lowest courts among those with at least `min_completions`, the validation summary (failures
  named) and the run's warnings;
- two interactive charts (plotly, its JavaScript inline once): courts ranked and the monthly trend,
  where each point shows its court or month, rate, interval and n on hover;
- sortable, searchable tables (itables, i.e. DataTables, its JavaScript embedded once in the page):
  courts (all), hearing locations, states, circuits, fiscal years, months, nationalities, custody,
  case types, validation.

The same outputs give the same bytes: every element id is fixed, and nothing records a time.
"""

from __future__ import annotations

import html
import json
from pathlib import Path

import pandas as pd

from . import definition, params
from .eras import NOT_A_FINDING, read_warnings
from .rates import percent
from .run_record import SYNTHETIC_WARNING
from .validation import summary as validation_summary

# Tables of the report: (file, heading, the columns shown and their headings, sentence under the heading)
RATE_COLUMNS = {
    "pd_rate": "PD rate",
    "ci_low": "95% interval",
    "pd_closures": "PD closures",
    "completions": "Completions",
}
TABLES = [
    (
        "courts.csv",
        "Immigration courts",
        {"court": "Court", "base_city_code": "Code", "state": "State"},
        "Every court, highest rate first among courts with at least {min} completions, then the rest.",
    ),
    (
        "hearing_locations.csv",
        "Hearing locations",
        {"hearing_location": "Hearing location", "hearing_city": "City", "hearing_state": "State", "court": "Court"},
        "Every hearing location, within its court.",
    ),
    ("states.csv", "States", {"state": "State of the court"}, "By the state of the court."),
    ("circuits.csv", "Federal circuits", {"circuit": "Circuit"}, "By the federal circuit of the court."),
    (
        "fiscal_years.csv",
        "Fiscal years",
        {"fiscal_year": "Fiscal year", "period_start": "From", "period_end": "To", "partial": "Part of the year"},
        "Fiscal years run from October to September; a partial year is only the part inside the window.",
    ),
    ("months.csv", "Months", {"month": "Month", "fiscal_year": "Fiscal year"}, "Every month of the window."),
    (
        "nationalities.csv",
        "Nationalities",
        {"nationality": "Nationality", "nat": "Code"},
        "Every nationality (NAT), highest rate first among those with at least {min} completions, then the rest.",
    ),
    ("custody.csv", "Custody", {"custody_status": "Custody status", "custody": "Code"}, "By custody status."),
    ("case_types.csv", "Case types", {"case_type_name": "Case type", "case_type": "Code"}, "By case type."),
]
VALIDATION_COLUMNS = {
    "status": "Status",
    "source": "Source",
    "published": "Published",
    "geography": "Where",
    "metric": "Figure",
    "published_value": "Published value",
    "computed_value": "Computed",
    "difference": "Difference",
    "tolerance": "Tolerance",
    "basis": "Computed from",
    "detail": "Detail",
    "note": "Note",
    "confidence": "Confidence",
}
SHOWN_COURTS = 3  # highest and lowest, each

CSS = """
<style type="text/css">
  .pd-answer { font-size: 1.05em; line-height: 1.5; }
  .pd-answer .pd-headline { font-size: 1.6em; font-weight: 600; margin: 0.4em 0; }
  .pd-answer .pd-not-a-finding { color: #D55E00; }
  .pd-answer table.pd-courts td, .pd-answer table.pd-courts th { padding: 2px 10px; text-align: left; }
  .pd-answer table.pd-courts td.num { text-align: right; }
  .pd-warning { border-left: 4px solid #E69F00; background: #FFF7E6; padding: 0.4em 0.8em; margin: 0.4em 0; }
  .pd-fail { color: #B03A00; }
  .pd-section { margin-top: 2em; }
  .pd-section h2 { border-bottom: 2px solid #0072B2; padding-bottom: 0.2em; }
  .pd-table-note { color: #555; margin: 0.2em 0 0.6em 0; }
  .pd-chart { margin: 1em 0 2em 0; }
  .pd-section table.dataTable td, .pd-section table.dataTable th { text-align: left; }
  .pd-section table.dataTable td.dt-type-numeric, .pd-section table.dataTable th.dt-type-numeric { text-align: right; }
</style>
"""


class Outputs:
    """A run's outputs, read once: its CSVs, run.json's parameters and warning, ingest.json's facts."""

    def __init__(self, processed: Path, parameters: dict | None = None, ingested=None):
        self.processed = Path(processed)
        self._tables: dict[str, pd.DataFrame | None] = {}
        record = self._run_json()
        self.parameters = dict(record.get("parameters") or parameters or {})
        self.synthetic = bool(getattr(ingested, "synthetic", False) or record.get("synthetic_sample"))
        self.manifest = getattr(ingested, "manifest", None) or {}
        self.accounting = record.get("row_accounting") or self.manifest.get("accounting") or []

    def _run_json(self) -> dict:
        try:
            return json.loads((self.processed / "run.json").read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            return {}

    def table(self, name: str) -> pd.DataFrame | None:
        """A table of the run, read once (callers filter or copy it, never change it)."""
        if name not in self._tables:
            path = self.processed / name
            text = ["circuit", "base_city_code", "hearing_loc_code", "published_value", "computed_value", "difference"]
            text += ["nat", "custody", "case_type"]
            # values as the CSV writes them
            # only an empty cell is missing: NA is a nationality code (Netherlands Antilles)
            read = dict(dtype=dict.fromkeys(text, str), keep_default_na=False, na_values=[""])
            self._tables[name] = pd.read_csv(path, **read) if path.is_file() else None
        return self._tables[name]

    @property
    def min_completions(self) -> int:
        try:
            return params.parse_min_completions(self.parameters.get("min_completions", 100))
        except Exception:
            return 100


def available(processed: Path | None) -> bool:
    return processed is not None and (Path(processed) / "national.csv").is_file()


# --------------------------------------------------------------------------------------------
# The answer


def answer_html(outputs: Outputs) -> str:
    """The first section: what the run found, in sentences and one small table."""
    p = outputs.parameters
    parts = ['<div class="pd-answer">', "<h2>The answer</h2>"]
    national = outputs.table("national.csv")
    window = f"{p.get('start', '?')} to {p.get('end', '?')}"
    run_warnings = read_warnings(outputs.processed)  # the guard's, shown under the rate they qualify
    # A warned run (the guard: its PD codes were barely in use) says so before its number, and the
    # number is marked as no finding.
    parts += [f'<div class="pd-warning pd-run-warning"><b>{html.escape(w)}</b></div>' for w in run_warnings]
    if national is not None and len(national):
        row = national.iloc[0]
        window = f"{row['start']} to {row['end']}"
        flag = (
            f'<span class="pd-not-a-finding">{NOT_A_FINDING} (see the warning above):</span> ' if run_warnings else ""
        )
        parts.append(
            f'<p class="pd-headline">{flag}{percent(row["pd_rate"])} of the cases completed in immigration court '
            f"from {window} were closed through prosecutorial discretion.</p>"
        )
        parts.append(
            f"<p>National rate: <b>{percent(row['pd_rate'])}</b> ({_n(row['pd_closures'])} PD closures of "
            f"{_n(row['completions'])} completions; 95% interval {_interval(row)}).</p>"
        )
    parts.append(f"<p><b>Window:</b> completions from {html.escape(window)}, both inclusive.<br>")
    parts.append(f"<b>Definition:</b> {html.escape(_definition(p))}.</p>")
    if p.get("definition") == definition.PD_DISMISSALS:
        parts.append(f'<p class="pd-caveat">{html.escape(definition.DISMISSALS_CAVEAT)}</p>')
    parts.append(_courts_html(outputs))
    parts.append(_validation_html(outputs))
    warnings = [w for w in _warnings(outputs) if w not in run_warnings]
    if warnings:
        parts.append("<h3>Warnings</h3>")
        parts += [f'<div class="pd-warning">{html.escape(w)}</div>' for w in warnings]
    parts.append("</div>")
    return "\n".join(parts)


def _definition(p: dict) -> str:
    try:
        method = params.parse_method(
            p.get("pd_codes", "Y,M,I"),
            p.get("excluded_codes", "C,T"),
            p.get("case_types", "all"),
            p.get("unit", "proceeding"),
            p.get("courts", ""),
            p.get("definition", "pd-closures"),
            p.get("dismissal_codes", ""),
        )
    except Exception:  # a hand-edited run.json: say what it holds
        return ", ".join(f"{key} {p[key]}" for key in ("pd_codes", "excluded_codes", "case_types", "unit") if key in p)
    return method.describe()


def _courts_html(outputs: Outputs) -> str:
    courts = outputs.table("courts.csv")
    if courts is None or courts.empty:
        return ""
    least = outputs.min_completions
    eligible = (courts["completions"] >= least) & (courts["completions"] > 0)
    ranked = courts[eligible].sort_values(["pd_rate", "completions", "base_city_code"], ascending=[False, False, True])
    if ranked.empty:
        return f"<p>No court has {least:,} completions or more in the window, so none is ranked.</p>"
    shown = min(SHOWN_COURTS, len(ranked) // 2 or 1)
    highest, lowest = ranked.head(shown), ranked.tail(shown).iloc[::-1]
    rows = []
    for label, frame in (("Highest", highest), ("Lowest", lowest)):
        for rank, (_, row) in enumerate(frame.iterrows()):
            rows.append(
                f"<tr><th>{label if rank == 0 else ''}</th><td>{html.escape(str(row['court']))}</td>"
                f'<td class="num"><b>{percent(row["pd_rate"])}</b></td>'
                f'<td class="num">{_n(row["pd_closures"])} of {_n(row["completions"])}</td>'
                f'<td class="num">{_interval(row)}</td></tr>'
            )
    return (
        f"<h3>Highest and lowest courts</h3><p>Among the {len(ranked)} courts with at least {least:,} completions "
        f"({len(courts)} courts in all):</p>"
        '<table class="pd-courts"><thead><tr><th></th><th>Court</th><th>PD rate</th><th>PD closures of '
        "completions</th><th>95% interval</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _validation_html(outputs: Outputs) -> str:
    validation = outputs.table("validation.csv")
    if validation is None:
        return "<h3>Validation against TRAC's published figures</h3><p>Not run.</p>"
    summary = ", ".join(f"{n} {status}" for status, n in validation_summary(validation).items())
    parts = [
        "<h3>Validation against TRAC's published figures</h3>",
        f"<p>{summary} (of {len(validation)} published figures; a figure for another window is not computable "
        "from this run).</p>",
    ]
    failed = validation[validation["status"] == "fail"]
    if outputs.synthetic:
        parts.append(
            "<p>On the synthetic sample this only shows the mechanics: its counts are compared at its scale, "
            "and it is calibrated to the bulletin of 2014-04-24 and the court rates, because TRAC's published "
            "figures cannot all hold under one method (FY2013 at 8.5% and October&ndash;December 2013 at 7.0% "
            "cannot average 6.7% over October 2012 to March 2014; data/sample/README.md).</p>"
        )
    if len(failed):
        parts.append("<p>Failures:</p><ul>")
        for _, row in failed.iterrows():
            parts.append(
                f'<li class="pd-fail">{html.escape(str(row["source"]))}, {html.escape(str(row["geography"]))} '
                f"{html.escape(str(row['metric']))}: published {html.escape(_text(row['published_value']))}, "
                f"computed {html.escape(_text(row['computed_value']))}"
                f"{' (' + html.escape(str(row['note'])) + ')' if _text(row.get('note')) else ''}</li>"
            )
        parts.append("</ul>")
    return "\n".join(parts)


def _warnings(outputs: Outputs) -> list[str]:
    found = []
    if outputs.synthetic:
        found.append(SYNTHETIC_WARNING)
    p = outputs.parameters
    if outputs.manifest and p.get("start") and p.get("end"):
        try:
            coverage = params.coverage_warning(params.parse_window(p["start"], p["end"]), outputs.manifest)
        except Exception:
            coverage = None
        if coverage:
            found.append(coverage)
    for row in outputs.accounting:
        if row.get("quarantined"):
            found.append(
                f"{row['quarantined']:,} of {row.get('lines', 0):,} lines of {row.get('table')} were quarantined "
                "(unreadable) and left out; see data_quality.csv."
            )
    return found


def _n(value) -> str:
    return f"{int(value):,}"


def _interval(row) -> str:
    if pd.isna(row["ci_low"]) or pd.isna(row["ci_high"]):
        return "—"
    return f"{100 * row['ci_low']:.1f}–{percent(row['ci_high'])}"


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


# --------------------------------------------------------------------------------------------
# Sortable, searchable tables (itables: DataTables with its JavaScript embedded)


def tables_html(outputs: Outputs) -> str:
    """Each table as a DataTable; the DataTables bundle is embedded once, before the first."""
    from itables import javascript as itables_js

    parts = ['<div class="pd-section">', "<h2>Tables</h2>"]
    parts.append(
        "<p>Click a heading to sort by it (again to reverse); type in <i>Search</i> to keep the rows that contain "
        "the text. Rates are percentages of completions, with the 95% Wilson interval.</p>"
    )
    parts.append(_itables_bundle(itables_js))
    for name, heading, keys, note in TABLES:
        frame = outputs.table(name)
        if frame is None:
            continue
        table_id = "pd-table-" + name.removesuffix(".csv").replace("_", "-")
        parts.append(f'<h3 id="{table_id}-heading">{html.escape(heading)}</h3>')
        parts.append(f'<p class="pd-table-note">{html.escape(note.format(min=f"{outputs.min_completions:,}"))}</p>')
        parts.append(_datatable(itables_js, reader_table(frame, keys), table_id))
    validation = outputs.table("validation.csv")
    if validation is not None:
        shown = validation[[c for c in VALIDATION_COLUMNS if c in validation.columns]].rename(
            columns=VALIDATION_COLUMNS
        )
        shown = shown.astype(object).map(_text)
        parts.append('<h3 id="pd-table-validation-heading">Validation</h3>')
        parts.append(
            '<p class="pd-table-note">Each figure TRAC published, beside the one computed here; pass means equal '
            "within TRAC's rounding.</p>"
        )
        parts.append(_datatable(itables_js, shown.astype(str), "pd-table-validation"))
    parts.append("</div>")
    return "\n".join(parts)


def reader_table(frame: pd.DataFrame, keys: dict[str, str]) -> pd.DataFrame:
    """The columns a reader wants, as text DataTables sorts as numbers ("1,234", "6.7%"): an empty cell
    where there is no rate, so that the column still sorts numerically."""
    out = {}
    for column, heading in keys.items():
        if column not in frame.columns:
            continue
        values = frame[column]
        if column == "partial":
            out[heading] = ["yes" if str(v).lower() == "true" else "" for v in values]
        elif column == "fiscal_year":
            out[heading] = [f"FY{int(v)}" for v in values]
        else:
            out[heading] = ["" if pd.isna(v) else str(v) for v in values]
    out[RATE_COLUMNS["pd_rate"]] = ["" if pd.isna(v) else percent(v) for v in frame["pd_rate"]]
    out[RATE_COLUMNS["pd_closures"]] = [_n(v) for v in frame["pd_closures"]]
    out[RATE_COLUMNS["completions"]] = [_n(v) for v in frame["completions"]]
    out[RATE_COLUMNS["ci_low"]] = ["" if pd.isna(r["ci_low"]) else _interval(r) for _, r in frame.iterrows()]
    return pd.DataFrame(out)


def _itables_bundle(itables_js) -> str:
    """DataTables (JavaScript and CSS) inside the page, loaded from the page itself."""
    from itables import options

    bundle = itables_js.generate_init_offline_itables_html(options.dt_bundle)
    return bundle.split('<div style="vertical-align:middle')[0]  # drop itables' notebook-trust message


def _datatable(itables_js, frame: pd.DataFrame, table_id: str) -> str:
    return itables_js.to_html_datatable(
        frame,
        table_id=table_id,
        connected=False,
        showIndex=False,
        display_logo_when_loading=False,
        classes="display compact",
        # Every table has its search box, however short (itables drops it from its default layout)
        layout={
            "topStart": "pageLength" if len(frame) > 25 else None,
            "topEnd": {"search": {"placeholder": "text in any column"}},
            "bottomStart": "info",
            "bottomEnd": "paging" if len(frame) > 25 else None,
        },
        lengthMenu=[10, 25, 100, -1],
        pageLength=10 if len(frame) > 25 else 25,
        order=[],
        maxBytes=0,
        text_in_header_can_be_selected=False,  # a click anywhere on a heading sorts by it
        style="width:100%; margin:0",
    )


# --------------------------------------------------------------------------------------------
# Charts with hover (plotly, its JavaScript inline once)


def charts_html(outputs: Outputs) -> str:
    """The courts ranked and the monthly trend, with hover; plotly.js is embedded once, in the first."""
    least = f"{outputs.min_completions:,}"
    figures = [
        (
            "pd-chart-courts",
            f"Courts ranked by PD rate (courts with at least {least} completions)",
            _courts_figure(outputs),
        ),
        ("pd-chart-months", "PD rate by month", _months_figure(outputs)),
    ]
    parts = ['<div class="pd-section">', "<h2>Figures</h2>"]
    parts.append(
        "<p>Hover over a point for its court or month, rate, 95% interval and number of completions. The printable "
        "figures (PNG, SVG, PDF) are in the run's figures folder and in part 3 below.</p>"
    )
    first = True
    for div_id, heading, figure in figures:
        if figure is None:
            continue
        parts.append(f"<h3>{html.escape(heading)}</h3>")
        parts.append(
            '<div class="pd-chart">'
            + figure.to_html(
                full_html=False,
                include_plotlyjs=first,
                div_id=div_id,
                config={"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["sendDataToCloud"]},
            )
            + "</div>"
        )
        first = False
    parts.append("</div>")
    return "\n".join(parts)


HOVER = (
    "<b>%{customdata[0]}</b><br>PD rate %{customdata[1]}<br>95% interval %{customdata[2]}"
    "<br>%{customdata[3]} PD closures of %{customdata[4]} completions<extra></extra>"
)


def _hover_data(frame: pd.DataFrame, label: pd.Series) -> list[list[str]]:
    return [
        [str(name), percent(row["pd_rate"]), _interval(row), _n(row["pd_closures"]), _n(row["completions"])]
        for name, (_, row) in zip(label, frame.iterrows())
    ]


def _error_bars(frame: pd.DataFrame) -> dict:
    return {
        "type": "data",
        "symmetric": False,
        "array": (100 * (frame["ci_high"] - frame["pd_rate"])).round(3).tolist(),
        "arrayminus": (100 * (frame["pd_rate"] - frame["ci_low"])).round(3).tolist(),
        "thickness": 1,
        "width": 0,
        "color": "#888888",
    }


def _layout(**extra) -> dict:
    return {
        "template": "simple_white",
        "font": {"family": "Helvetica, Arial, sans-serif", "size": 12},
        "margin": {"l": 10, "r": 20, "t": 30, "b": 40},
        "hoverlabel": {"bgcolor": "white"},
        "showlegend": False,
        **extra,
    }


def _courts_figure(outputs: Outputs):
    import plotly.graph_objects as go

    courts = outputs.table("courts.csv")
    if courts is None:
        return None
    courts = courts[courts["completions"] > 0]
    least = outputs.min_completions
    ranked = courts[courts["completions"] >= least].sort_values(["pd_rate", "court"], ascending=[True, False])
    if ranked.empty:
        return None
    # Two courts in one city (a detention court beside the main one) share a name: the code tells them apart.
    shared = ranked["court"].duplicated(keep=False)
    labels = ranked["court"].where(~shared, ranked["court"] + " (" + ranked["base_city_code"] + ")")
    figure = go.Figure(
        go.Scatter(
            x=(100 * ranked["pd_rate"]).round(3).tolist(),
            y=labels.tolist(),
            mode="markers",
            marker={"color": "#0072B2", "size": 8},
            error_x=_error_bars(ranked),
            customdata=_hover_data(ranked, labels),
            hovertemplate=HOVER,
        )
    )
    national = outputs.table("national.csv")
    if national is not None and len(national) and pd.notna(national["pd_rate"].iloc[0]):
        rate = round(100 * float(national["pd_rate"].iloc[0]), 3)
        figure.add_vline(x=rate, line={"color": "#D55E00", "dash": "dash", "width": 1})
        figure.add_annotation(
            x=rate, y=1, yref="paper", text=f"national {rate:.1f}%", showarrow=False, yanchor="bottom", xanchor="left"
        )
    figure.update_layout(
        **_layout(
            height=max(300, 18 * len(ranked) + 90),
            xaxis={"title": {"text": "PD closures, % of completions (95% interval)"}, "ticksuffix": "%"},
            yaxis={"automargin": True},
        )
    )
    return figure


def _months_figure(outputs: Outputs):
    import plotly.graph_objects as go

    months = outputs.table("months.csv")
    if months is None or months.empty:
        return None
    months = months[months["completions"] > 0]
    if months.empty:
        return None
    figure = go.Figure(
        go.Scatter(
            x=months["month"].tolist(),
            y=(100 * months["pd_rate"]).round(3).tolist(),
            mode="lines+markers",
            line={"color": "#0072B2", "width": 1.5},
            marker={"size": 7},
            error_y=_error_bars(months),
            customdata=_hover_data(months, months["month"]),
            hovertemplate=HOVER,
        )
    )
    figure.update_layout(
        **_layout(
            height=380,
            xaxis={"title": {"text": "Month of completion"}, "type": "category"},
            yaxis={"title": {"text": "PD closures, % of completions"}, "ticksuffix": "%", "rangemode": "tozero"},
        )
    )
    return figure


def reader_html(outputs: Outputs) -> str:
    """The whole reader's part: the answer, the figures, the tables."""
    return "\n".join([CSS, answer_html(outputs), charts_html(outputs), tables_html(outputs)])
