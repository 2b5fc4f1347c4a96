"""The definition parameter: decoding dismissals per case type, the dismissal_codes override, and each
definition's counts on a tiny release with known answers (issue 19, items 1 and 3)."""

import pandas as pd
import pytest
from tiny_release import lookup_lines, proceeding, proceeding_line, write_release

from pdclosures import definition, ingest, params, rates, release_format, validation
from pdclosures.definition import Method
from pdclosures.errors import ParameterError, ReleaseError

# A decision lookup in which one letter means different things in different case types, as in the
# real tblLookupCourtDecision (descriptions from the October 2025 lookup dump): U is a dismissal in
# RMV and EXC, D is "Deny" in RMV, "DISMISSED" in DEP and "Deport" in EXC; CFR has no C rows.
DECISION_ROWS = [  # strCaseType, strDecCode, strDecType, strDecDescription
    ("RMV", "U", "C", "Dismissed by IJ"),
    ("RMV", "D", "C", "Deny"),
    ("RMV", "X", "C", "ZERO BOND"),
    ("DEP", "D", "C", "DISMISSED"),
    ("DEP", "X", "C", "ZERO BOND"),
    ("EXC", "D", "C", "Deport"),
    ("EXC", "U", "C", "Dismissed by IJ"),
    ("RMV", "Y", "O", "Prosecutorial Discretion - Admin Close"),
    ("RMV", "M", "O", "In Court Prosecutorial Discretion - Admin Closure"),
    ("RMV", "F", "O", "Failure to Prosecute (DHS cases only)"),
    ("RMV", "A", "O", "Administrative Closing - Other"),
    ("RMV", "K", "O", "Administrative Closure"),
    ("RMV", "C", "O", "Change of Venue"),
    ("RMV", "T", "O", "Transfer"),
]


def decision_frame(rows=DECISION_ROWS) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["strCaseType", "strDecCode", "strDecType", "strDecDescription"])


def decision_lines(rows=DECISION_ROWS) -> list[str]:
    return lookup_lines(
        release_format.DECISION_TABLE,
        [
            {
                "idnCourtDecision": str(i),
                "strCaseType": case_type,
                "strDecCode": code,
                "strDecType": dec_type,
                "strDecDescription": text,
                "blnActive": "1",
            }
            for i, (case_type, code, dec_type, text) in enumerate(rows, 1)
        ],
    )


# --- Decoding ---------------------------------------------------------------------------------


def test_dismissals_are_decoded_per_case_type_from_the_c_rows():
    decoded = definition.dismissal_codes(decision_frame())
    assert decoded.to_dict("records") == [
        {"case_type": "DEP", "dec_code": "D", "description": "DISMISSED"},
        {"case_type": "EXC", "dec_code": "U", "description": "Dismissed by IJ"},
        {"case_type": "RMV", "dec_code": "U", "description": "Dismissed by IJ"},
    ]


def test_decoding_trims_the_lookup_text_and_reads_only_strdectype_c():
    rows = [(" RMV ", "U ", "C", " Dismissed by IJ"), ("RMV", "Z", "O", "Dismissed elsewhere")]
    decoded = definition.dismissal_codes(decision_frame(rows))
    assert decoded[["case_type", "dec_code"]].values.tolist() == [["RMV", "U"]]


def test_resolve_fills_the_dismissals_and_leaves_pd_closures_alone():
    decisions = decision_frame()
    resolved = definition.resolve(Method(definition="pd-dismissals"), decisions)
    assert resolved.dismissals == (("DEP", "D"), ("EXC", "U"), ("RMV", "U"))
    assert definition.resolve(resolved, decisions) == resolved  # resolving twice changes nothing
    assert definition.resolve(Method(), decisions) == Method()


def test_the_override_replaces_the_decoding():
    override = (("all", "U"), ("DEP", "D"))
    resolved = definition.resolve(Method(definition="pd-dismissals", dismissal_override=override), decision_frame())
    assert resolved.dismissals == override
    # Without C rows at all, the override still counts.
    no_c_rows = decision_frame([r for r in DECISION_ROWS if r[2] == "O"])
    assert definition.resolve(Method(definition="pd-dismissals", dismissal_override=override), no_c_rows).dismissals


@pytest.mark.parametrize(
    "rows, columns, message",
    [
        (
            [r for r in DECISION_ROWS if r[2] == "O"],
            None,
            "tblLookupCourtDecision: no rows with strDecType C (the DEC_CODE decisions)",
        ),
        (
            [r for r in DECISION_ROWS if "dismiss" not in r[3].lower()],
            None,
            "tblLookupCourtDecision: no strDecType C row whose strDecDescription says dismissed",
        ),
        (
            DECISION_ROWS,
            ["strCaseType", "strDecCode", "strDecType"],
            "tblLookupCourtDecision: column strDecDescription",
        ),
    ],
    ids=["no C rows", "no dismissal row", "no description column"],
)
def test_a_lookup_without_the_rows_the_decoding_needs_is_one_line_naming_table_and_column(rows, columns, message):
    decisions = decision_frame(rows)
    if columns:
        decisions = decisions[columns]
    with pytest.raises(ReleaseError) as error:
        definition.resolve(Method(definition="pd-dismissals"), decisions)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)
    assert "dismissal_codes" in str(error.value)  # says how to go on


def test_is_pd_sql_matches_each_dismissal_with_its_own_case_type():
    method = Method(definition="pd-dismissals", dismissals=(("DEP", "D"), ("RMV", "U"), ("all", "W")))
    sql = definition.is_pd_sql(method)
    assert "(CASE_TYPE = 'DEP' AND DEC_CODE IN ('D'))" in sql and "(CASE_TYPE = 'RMV' AND DEC_CODE IN ('U'))" in sql
    assert "OR DEC_CODE IN ('W')" in sql and "OTHER_COMP IN ('Y', 'M', 'I')" in sql
    assert definition.is_pd_sql(Method()) == "coalesce(OTHER_COMP IN ('Y', 'M', 'I'), false)"  # unchanged
    with pytest.raises(ValueError, match="resolve"):  # an unresolved pd-dismissals method never counts silently
        definition.is_pd_sql(Method(definition="pd-dismissals"))


def test_definition_codes_list_what_each_code_means_per_case_type():
    decisions = decision_frame()
    codes = definition.definition_codes(definition.resolve(Method(definition="pd-dismissals"), decisions), decisions)
    assert list(codes.columns) == ["case_type", "field", "code", "description", "counted_as"]
    assert codes[["case_type", "field", "code", "description"]].values.tolist() == [
        ["all", "OTHER_COMP", "Y", "Prosecutorial Discretion - Admin Close"],
        ["all", "OTHER_COMP", "M", "In Court Prosecutorial Discretion - Admin Closure"],
        ["all", "OTHER_COMP", "I", "(not in tblLookupCourtDecision)"],
        ["all", "OTHER_COMP", "C", "Change of Venue"],
        ["all", "OTHER_COMP", "T", "Transfer"],
        ["DEP", "DEC_CODE", "D", "DISMISSED"],
        ["EXC", "DEC_CODE", "U", "Dismissed by IJ"],
        ["RMV", "DEC_CODE", "U", "Dismissed by IJ"],
    ]
    assert codes["counted_as"].tolist()[:3] == ["PD closure"] * 3
    assert codes["counted_as"].tolist()[-1] == "PD closure (dismissal, a proxy)"
    # A letter given for every case type shows what it means in each: D is not a dismissal everywhere.
    override = definition.resolve(Method(definition="pd-dismissals", dismissal_override=(("all", "D"),)), decisions)
    row = definition.definition_codes(override, decisions).iloc[-1]
    assert (row["case_type"], row["code"]) == ("all", "D")
    assert row["description"] == "DISMISSED (DEP); Deny (RMV); Deport (EXC)"
    # Under pd-closures only the OTHER_COMP codes are listed.
    assert set(definition.definition_codes(Method(), decisions)["field"]) == {"OTHER_COMP"}


# --- Parameters -------------------------------------------------------------------------------


def test_definition_and_dismissal_codes_parameters_reach_the_method():
    assert params.Run.from_parameters().method.definition == "pd-closures"
    run = params.Run.from_parameters(definition="pd-dismissals", dismissal_codes="u, rmv:d,DEP:D")
    assert run.method.definition == "pd-dismissals"
    assert run.method.dismissal_override == (("all", "U"), ("RMV", "D"), ("DEP", "D"))
    assert "dismissal_codes U,RMV:D,DEP:D" in run.method.describe()
    assert (
        "or a DEC_CODE dismissal (decoded per case type"
        in params.Run.from_parameters(definition="pd-dismissals").describe()
    )


@pytest.mark.parametrize(
    "overrides, message",
    [
        (dict(definition="pd-dismisals"), "definition='pd-dismisals': unknown definition; use one of pd-closures, "),
        (dict(definition="pd-dismissals", dismissal_codes="RMV:"), "dismissal_codes: 'RMV:' is not a DEC_CODE; use U"),
        (dict(definition="pd-dismissals", dismissal_codes="XYZ:U"), "dismissal_codes: unknown case type XYZ in XYZ:U"),
        (dict(definition="pd-dismissals", dismissal_codes="U;D"), "dismissal_codes: 'U;D' is not a DEC_CODE"),
        (dict(dismissal_codes="U"), "dismissal_codes='U': only used with definition=pd-dismissals"),
    ],
)
def test_a_bad_definition_parameter_is_one_line_naming_it(overrides, message):
    with pytest.raises(ParameterError) as error:
        params.Run.from_parameters(**overrides)
    assert str(error.value).startswith(message) and "\n" not in str(error.value)


def test_a_preset_can_set_the_definition(tmp_path):
    (tmp_path / "fy2023-test.yaml").write_text(
        "description: test\nstart: 2022-10-01\nend: 2023-09-30\ndefinition: pd-dismissals\ndismissal_codes: U\n"
    )
    values = params.resolve(tmp_path / "fy2023-test.yaml")
    assert (values["definition"], values["dismissal_codes"]) == ("pd-dismissals", "U")
    run = params.Run.from_parameters(**{k: values[k] for k in params.DEFAULTS})
    assert run.method.dismissal_override == (("all", "U"),)


# --- Counting each definition on a tiny release ---------------------------------------------

# Thirteen proceedings completed in FY2013; hand-counted answers below. C (change of venue) is not a
# completion, so 12 completions.
ROWS = [
    proceeding(1, case_type="RMV", dec="U", comp="2013-01-15"),  # RMV U "Dismissed by IJ": a dismissal
    proceeding(2, case_type="RMV", dec="D", comp="2013-02-15"),  # RMV D "Deny": not
    proceeding(3, case_type="DEP", dec="D", comp="2013-03-15", court="TUC"),  # DEP D "DISMISSED": a dismissal
    proceeding(4, case_type="EXC", dec="D", comp="2013-04-15", court="TUC"),  # EXC D "Deport": not
    proceeding(5, case_type="EXC", dec="U", comp="2013-05-15", court="HOU"),  # EXC U: a dismissal
    proceeding(6, case_type="RMV", other="Y", comp="2013-06-15"),  # PD closure under both definitions
    proceeding(7, case_type="RMV", other="F", comp="2013-07-15"),  # failure to prosecute: not PD
    proceeding(8, case_type="RMV", other="A", comp="2013-08-15"),  # administrative closure: not PD
    proceeding(9, case_type="RMV", other="K", comp="2013-09-15"),  # administrative closure: not PD
    proceeding(10, case_type="RMV", other="C", dec="U", comp="2013-01-20"),  # change of venue: not counted
    proceeding(11, case_type="CFR", dec="U", comp="2013-02-20"),  # CFR has no C rows: U is not decoded
    proceeding(12, case_type="RMV", dec="X", comp="2013-03-20"),  # zero bond: not
    proceeding(13, case_type="DEP", dec="U", comp="2013-04-20"),  # DEP has no U row: not decoded
]
FY2013 = params.parse_window("2012-10-01", "2013-09-30")
MID_MONTH = params.parse_window("2012-10-02", "2013-09-29")  # not whole months: counted by a scan


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("definition")
    lookups = {release_format.DECISION_TABLE: decision_lines()}
    release = write_release(tmp / "release", [proceeding_line(r) for r in ROWS], lookups=lookups)
    return ingest.ingest_release(release, tmp / "interim", progress=False)


def counts(ingested, window=FY2013, **method):
    row = rates.RateCalculator(ingested, window, Method(**method)).national().iloc[0]
    return row["pd_closures"], row["completions"]


@pytest.mark.parametrize("window", [FY2013, MID_MONTH], ids=["monthly table", "scan"])
@pytest.mark.parametrize(
    "method, expected",
    [
        (dict(), (1, 12)),  # 6
        (dict(definition="pd-dismissals"), (4, 12)),  # 6, and the decoded dismissals 1, 3, 5
        (dict(definition="pd-dismissals", dismissal_override=(("all", "U"),)), (5, 12)),  # 6; U: 1, 5, 11, 13
        (dict(definition="pd-dismissals", dismissal_override=(("RMV", "U"), ("DEP", "D"))), (3, 12)),  # 6, 1, 3
        (dict(definition="pd-dismissals", pd_codes=()), (3, 12)),  # dismissals only
        (dict(definition="pd-dismissals", case_types=("RMV",)), (2, 7)),  # 6, 1 of RMV's 7
        (dict(definition="pd-dismissals", unit="case"), (4, 12)),
    ],
    ids=["pd-closures", "decoded", "U everywhere", "per case type", "no OTHER_COMP codes", "RMV only", "case unit"],
)
def test_each_definition_counts_its_known_answer(ingested, method, expected, window):
    assert counts(ingested, window, **method) == expected


def test_the_calculator_resolves_its_method_and_every_table_counts_under_it(ingested):
    calculator = rates.RateCalculator(ingested, FY2013, Method(definition="pd-dismissals"))
    assert calculator.method.dismissals == (("DEP", "D"), ("EXC", "U"), ("RMV", "U"))
    tables = calculator.all_tables()
    for name, frame in tables.items():
        assert (frame["pd_closures"].sum(), frame["completions"].sum()) == (4, 12), name
    courts = tables["courts"].set_index("base_city_code")["pd_closures"].to_dict()
    assert courts == {"SEA": 2, "TUC": 1, "HOU": 1}
    assert list(tables["national"].columns)[-1] == "definition"
    assert tables["national"]["definition"].tolist() == ["pd-dismissals"]
    assert rates.RateCalculator(ingested, FY2013).national()["definition"].tolist() == ["pd-closures"]


def test_a_release_without_dismissal_rows_cannot_run_pd_dismissals_but_runs_pd_closures(tmp_path):
    lookups = {release_format.DECISION_TABLE: decision_lines([r for r in DECISION_ROWS if r[2] == "O"])}
    release = write_release(tmp_path / "release", [proceeding_line(r) for r in ROWS], lookups=lookups)
    ingested = ingest.ingest_release(release, tmp_path / "interim", progress=False)
    with pytest.raises(ReleaseError, match="^tblLookupCourtDecision: no rows with strDecType C"):
        rates.RateCalculator(ingested, FY2013, Method(definition="pd-dismissals"))
    assert counts(ingested, definition="pd-dismissals", dismissal_override=(("all", "U"),)) == (5, 12)
    with pytest.warns(UserWarning, match="pd-dismissals; a proxy, an upper bound.* left out: tblLookupCourtDecision"):
        sens = validation.sensitivity(ingested, FY2013)
    assert "definition=pd-dismissals" not in set(sens["definition"])


def test_the_definition_codes_of_a_run(ingested):
    codes = rates.RateCalculator(ingested, FY2013, Method(definition="pd-dismissals")).definition_codes()
    dismissals = codes[codes["field"] == "DEC_CODE"]
    assert dismissals[["case_type", "code", "description"]].values.tolist() == [
        ["DEP", "D", "DISMISSED"],
        ["EXC", "U", "Dismissed by IJ"],
        ["RMV", "U", "Dismissed by IJ"],
    ]


def test_the_eoir_completions_basis(ingested):
    # Decisions only (no OTHER_COMP) in RMV, DEP, EXC, AOC, WHO: 1, 2, 3, 4, 5, 12, 13 (11 is CFR).
    assert counts(ingested, **vars(definition.EOIR_COMPLETIONS)) == (0, 7)  # an OTHER_COMP PD code is never a decision
    dismissals = definition.eoir_completions(Method(definition="pd-dismissals"))
    assert counts(ingested, **vars(dismissals)) == (3, 7)  # 1, 3, 5
    assert counts(ingested, MID_MONTH, **vars(dismissals)) == (3, 7)


@pytest.mark.parametrize("window", [FY2013, MID_MONTH], ids=["monthly table", "scan"])
def test_sensitivity_rows_for_the_definitions_f_a_k_and_eoir_basis(ingested, window):
    sens = validation.sensitivity(ingested, window).set_index("definition")
    found = {name: (row.pd_closures, row.completions) for name, row in sens.iterrows()}
    assert found["default"] == (1, 12)
    assert found["definition=pd-dismissals"] == (4, 12)
    assert found["pd_codes+F"] == found["pd_codes+A"] == found["pd_codes+K"] == (2, 12)
    assert found["basis=eoir-completions"] == (0, 7)
    assert "not PD" in sens.loc["pd_codes+F", "label"]
    # Under pd-dismissals, the other definition is pd-closures, and F adds to the dismissals.
    sens = validation.sensitivity(ingested, window, Method(definition="pd-dismissals")).set_index("definition")
    found = {name: (row.pd_closures, row.completions) for name, row in sens.iterrows()}
    assert found["default"] == (4, 12) and found["definition=pd-closures"] == (1, 12)
    assert found["pd_codes+F"] == (5, 12) and found["basis=eoir-completions"] == (3, 7)
    # Pending at the start: all 13, change of venue included (the backlog is every open proceeding); PD 5,
    # 10's RMV U among them (the basis counts every PD outcome of a pending proceeding).
    assert found[validation.PENDING] == (5, 13)


def test_figure_notes_and_the_report_say_dismissals_are_a_proxy_and_an_upper_bound():
    from pdclosures import figures, report_reader

    note = figures.Context(FY2013, Method(definition="pd-dismissals"), 100, "test release", False).note()
    assert definition.DISMISSALS_CAVEAT in note and "upper bound" in note
    assert "proxy" not in figures.Context(FY2013, Method(), 100, "test release", False).note()
    described = report_reader._definition({"definition": "pd-dismissals", "dismissal_codes": "RMV:U"})
    assert "or a DEC_CODE dismissal (dismissal_codes RMV:U)" in described


@pytest.mark.filterwarnings("ignore:The copy keyword is deprecated")  # seaborn on pandas 3, as in test_figures
def test_the_sensitivity_figure_draws_the_eoir_basis_apart_and_leaves_it_out_of_the_title_range():
    from pdclosures import figures

    rows = [
        ("default", True, "Run's method", "completions", 978, 14383),
        ("pd_codes+F", False, "Also OTHER_COMP F", "completions", 1524, 14383),
        ("basis=eoir-completions", False, "EOIR's completions basis", validation.EOIR_DENOMINATOR, 0, 11748),
    ]
    columns = ["definition", "is_default", "label", "denominator", "pd_closures", "completions"]
    sens = rates.add_rates(pd.DataFrame(rows, columns=columns))
    fig = figures.sensitivity(sens, figures.Context(FY2013, Method(), 100, "test release", False))
    title = fig.texts[0].get_text().replace("\n", " ")
    assert "ranges from 6.8% to 10.6% across 2 definitions" in title  # not from 0.0%: the basis is for its total
    legend = [text.get_text() for text in fig.legends[0].get_texts()] if fig.legends else []
    assert any("EOIR's completions" in text for text in legend)
    assert validation.closest_definition(sens, 0.0)["definition"] == "default"


# --- The synthetic sample's planted truth, under both definitions ------------------------------

SAMPLE = params.PROJECT_ROOT / "data" / "sample"


@pytest.fixture(scope="module")
def sample():
    import json

    return json.loads((SAMPLE / "sample_manifest.json").read_text())


@pytest.fixture(scope="module")
def sample_ingest(tmp_path_factory):
    return ingest.ingest_release(
        SAMPLE / "eoir_synthetic_sample.zip", tmp_path_factory.mktemp("sample"), progress=False
    )


def test_the_sample_decodes_to_its_planted_dismissal_codes(sample, sample_ingest):
    decoded = definition.dismissal_codes(rates.decision_lookup(sample_ingest))
    found = decoded.groupby("case_type")["dec_code"].apply(sorted).to_dict()
    assert found == sample["truth"]["definition_codes"]


@pytest.mark.parametrize("name", definition.DEFINITIONS)
def test_the_sample_gives_its_planted_counts_for_each_window_under_each_definition(sample, sample_ingest, name):
    truth = sample["truth"]["national_by_definition"]
    found = {}
    for window in truth:
        calculator = rates.RateCalculator(
            sample_ingest, params.parse_window(*sample["windows"][window]), Method(definition=name)
        )
        row = calculator.national().iloc[0]
        found[window] = {"pd_closures": int(row["pd_closures"]), "completions": int(row["completions"])}
    assert found == {window: truth[window][name] for window in truth}
