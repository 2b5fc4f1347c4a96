"""PDFs keep TrueType (Type 42) fonts, subset without the OpenType layout tables a PDF never uses.

save_figure reaches into matplotlib (3.11) to drop those tables before fontTools subsets the
fonts; these tests fail if matplotlib changes so that the shortcut no longer applies."""

from __future__ import annotations

import io
import re
import zlib

import matplotlib
import matplotlib.pyplot as plt
from fontTools import subset as fontTools_subset
from fontTools.ttLib import TTFont
from matplotlib.backends import _backend_pdf_ps

from pdclosures import charts

LAYOUT_TABLES = {"GSUB", "GPOS", "GDEF"}


def figure():
    fig = plt.figure(figsize=(4, 2))
    fig.suptitle("Bold title \u2014 PD closures")  # a character beyond Latin-1: a second font subset
    fig.text(0.1, 0.4, "Regular text, 12.5% \u2013 fine")
    return fig


def embedded_fonts(pdf: bytes) -> list[TTFont]:
    """The /FontFile2 (TrueType) programs of a PDF, as fontTools fonts."""
    fonts = []
    for ref in re.findall(rb"/FontFile2 (\d+) 0 R", pdf):
        obj = re.search(rb"\n" + ref + rb" 0 obj\n<<(.*?)>>\nstream\n", pdf, re.DOTALL)
        start = obj.end()
        data = pdf[start:pdf.index(b"\nendstream", start)]
        if b"/FlateDecode" in obj.group(1):
            data = zlib.decompress(data)
        fonts.append(TTFont(io.BytesIO(data)))
    return fonts


def test_pdf_fonts_are_truetype_subsets_without_layout_tables(tmp_path):
    fig = figure()
    try:
        [path] = charts.save_figure(fig, tmp_path, "fonts", formats=("pdf",))
    finally:
        plt.close(fig)
    pdf = path.read_bytes()
    assert b"/FontFile2" in pdf and b"/CIDFontType2" in pdf  # TrueType, embedded
    assert b"/FontFile3" not in pdf and b"/Type3" not in pdf
    fonts = embedded_fonts(pdf)
    assert len(fonts) >= 2  # DejaVu Sans and DejaVu Sans Bold
    for font in fonts:
        assert "glyf" in font and "hmtx" in font and "cmap" in font
        assert not LAYOUT_TABLES & set(font.keys()), sorted(font.keys())
        assert font["maxp"].numGlyphs < 200  # a subset, not the whole font
    # The stand-in for fontTools.subset is gone once the file is written.
    assert _backend_pdf_ps.subset is fontTools_subset


def test_matplotlib_alone_keeps_the_layout_tables(tmp_path):
    """What the shortcut saves: without it, the same save embeds GSUB/GPOS/GDEF. If this fails,
    matplotlib or fontTools drop the tables by themselves and the shortcut can go."""
    fig = figure()
    try:
        with plt.style.context(charts.STYLE_PATH), matplotlib.rc_context({"pdf.fonttype": 42}):
            fig.savefig(tmp_path / "plain.pdf", format="pdf")
    finally:
        plt.close(fig)
    fonts = embedded_fonts((tmp_path / "plain.pdf").read_bytes())
    assert fonts and all(LAYOUT_TABLES <= set(font.keys()) for font in fonts)


def test_the_shortcut_still_reaches_matplotlib():
    """matplotlib (3.11) subsets fonts in _backend_pdf_ps.get_glyphs_subset, which loads them
    through its module-global `subset` (fontTools.subset)."""
    assert _backend_pdf_ps.subset is fontTools_subset
    names = _backend_pdf_ps.get_glyphs_subset.__code__.co_names
    assert "subset" in names and "load_font" in names
    with charts._lean_pdf_font_subsets():
        assert _backend_pdf_ps.subset is not fontTools_subset
        assert _backend_pdf_ps.subset.Subsetter is fontTools_subset.Subsetter
    assert _backend_pdf_ps.subset is fontTools_subset


def test_pdf_is_byte_identical_across_saves(tmp_path):
    out = []
    for n in range(2):
        fig = figure()
        try:
            out += charts.save_figure(fig, tmp_path / str(n), "same", formats=("pdf",))
        finally:
            plt.close(fig)
    assert out[0].read_bytes() == out[1].read_bytes()
