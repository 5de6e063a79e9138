"""The credential on paper: a one-page PDF a learner can print or attach, with a QR code to verify it.

The PDF is a courtesy copy, not the credential: the sealed XML is what proves anything, so the page
says so and its QR code leads to the verification page. It is drawn with ReportLab (pure Python,
no browser or system libraries) and the QR code with segno, drawn as vector squares so it scans at
any zoom. Lithuanian letters (ą č ę ė į š ų ū ž) need a font that has them: ReportLab's built-in
fonts and its bundled Vera do not, so DejaVu Sans is embedded (Debian's fonts-dejavu-core; another
folder can be named with EDC_PDF_FONT_DIR).
"""
from __future__ import annotations

import io
import os
from functools import lru_cache
from pathlib import Path

import segno
from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from xml.sax.saxutils import escape

from bridge.presentation.credential_view import CredentialView

FONT_DIRS = ("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu")
REGULAR, BOLD = "EDC-Sans", "EDC-Sans-Bold"
LITHUANIAN = "ąčęėįšųūžĄČĘĖĮŠŲŪŽ"

INK = colors.HexColor("#1d2733")
MUTED = colors.HexColor("#5b6775")
BAND = colors.HexColor("#0b3d91")
VERDICT_COLOURS = {
    "valid": (colors.HexColor("#e6f4ea"), colors.HexColor("#1e7b34")),
    "not_valid": (colors.HexColor("#fdecea"), colors.HexColor("#b3261e")),
    "revoked": (colors.HexColor("#fdecea"), colors.HexColor("#b3261e")),
    "unchecked": (colors.HexColor("#f1f3f4"), colors.HexColor("#5b6775")),
}


class FontMissing(RuntimeError):
    """No font with the Lithuanian letters was found; the PDF would show empty boxes instead."""


def _font_dirs() -> list[Path]:
    configured = os.environ.get("EDC_PDF_FONT_DIR")
    return [Path(p) for p in ([configured] if configured else []) + list(FONT_DIRS)]


@lru_cache(maxsize=1)
def register_fonts() -> tuple[str, str]:
    """Register (once) and return the regular and bold font names, refusing a font without ą…ž."""
    for folder in _font_dirs():
        regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdfmetrics.registerFont(TTFont(REGULAR, str(regular)))
            pdfmetrics.registerFont(TTFont(BOLD, str(bold)))
            glyphs = pdfmetrics.getFont(REGULAR).face.charToGlyph
            missing = [c for c in LITHUANIAN if ord(c) not in glyphs]
            if missing:
                raise FontMissing(f"the font in {folder} lacks the letters {''.join(missing)}")
            return REGULAR, BOLD
    searched = ", ".join(str(p) for p in _font_dirs())
    raise FontMissing(f"DejaVuSans.ttf and DejaVuSans-Bold.ttf not found in {searched} "
                      "(install Debian's fonts-dejavu-core or set EDC_PDF_FONT_DIR)")


class QrCode(Flowable):
    """A QR code drawn as filled squares: vector, so it stays sharp when printed or zoomed."""

    def __init__(self, data: str, size: float):
        super().__init__()
        self.qr = segno.make(data, error="m", micro=False)
        self.size = size
        self.width = self.height = size

    def draw(self) -> None:
        matrix = [list(row) for row in self.qr.matrix_iter(scale=1, border=4)]
        cell = self.size / len(matrix)
        self.canv.setFillColor(colors.white)
        self.canv.rect(0, 0, self.size, self.size, stroke=0, fill=1)
        self.canv.setFillColor(colors.black)
        for y, row in enumerate(matrix):
            for x, dark in enumerate(row):
                if dark:
                    top = self.size - (y + 1) * cell
                    # A hair of overlap so no white seams appear between neighbouring squares.
                    self.canv.rect(x * cell, top, cell + 0.05, cell + 0.05, stroke=0, fill=1)


def _styles(regular: str, bold: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=regular, fontSize=10, leading=13.5, textColor=INK, alignment=TA_LEFT)
    return {
        "base": base,
        "kicker": ParagraphStyle("kicker", parent=base, fontName=bold, fontSize=10, textColor=BAND, leading=13),
        "title": ParagraphStyle("title", parent=base, fontName=bold, fontSize=20, leading=24, spaceAfter=4),
        "learner": ParagraphStyle("learner", parent=base, fontSize=13, leading=17),
        "label": ParagraphStyle("label", parent=base, fontName=bold, fontSize=8.5, leading=11, textColor=MUTED),
        "value": base,
        "heading": ParagraphStyle("heading", parent=base, fontName=bold, fontSize=11.5, leading=15, spaceBefore=8,
                                  spaceAfter=3),
        "small": ParagraphStyle("small", parent=base, fontSize=8, leading=10.5, textColor=MUTED),
        "verdict": ParagraphStyle("verdict", parent=base, fontName=bold, fontSize=11, leading=14),
    }


def _p(text: str | None, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(text or "").replace("\n", "<br/>"), style)


def _verdict_box(view: CredentialView, s: dict[str, ParagraphStyle], width: float) -> Table | None:
    verdict = view.verdict
    if verdict is None:
        return None
    background, ink = VERDICT_COLOURS.get(verdict.state, VERDICT_COLOURS["unchecked"])
    lines = [_p(verdict.headline, ParagraphStyle("v", parent=s["verdict"], textColor=ink))]
    from bridge.presentation import wording

    if verdict.state == "not_valid":
        lines.append(_p(wording.verdict_text("untrusted", view.lang), s["base"]))
    if verdict.revoked_at:
        lines.append(_p(f"{wording.verdict_text('revoked_at', view.lang)}: {verdict.revoked_at}", s["base"]))
    if verdict.revocation_reason:
        lines.append(_p(f"{wording.verdict_text('revoked_reason', view.lang)}: {verdict.revocation_reason}", s["base"]))
    if verdict.sealed_at:
        lines.append(_p(f"{view.label('sealed_at')}: {verdict.sealed_at}", s["small"]))
    if verdict.sealed_by:
        lines.append(_p(f"{view.label('sealed_by')}: {verdict.sealed_by}", s["small"]))
    box = Table([[lines]], colWidths=[width], hAlign="LEFT")
    box.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), background), ("LINEBEFORE", (0, 0), (0, -1), 3, ink),
        ("LEFTPADDING", (0, 0), (-1, -1), 8), ("TOPPADDING", (0, 0), (-1, -1), 6),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
    ]))
    return box


def _header(view: CredentialView, verify_url: str, s: dict[str, ParagraphStyle], width: float) -> Table:
    qr_size = 34 * mm
    left = [_p(view.label("document_title").upper(), s["kicker"]), Spacer(1, 4),
            _p(view.title, s["title"]), _p(view.learner, s["learner"])]
    right = [QrCode(verify_url, qr_size), _p(view.label("scan_to_verify"), s["small"])]
    table = Table([[left, right]], colWidths=[width - qr_size - 6 * mm, qr_size + 6 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0), ("ALIGN", (1, 0), (1, 0), "RIGHT")]))
    return table


def _facts(view: CredentialView, s: dict[str, ParagraphStyle], width: float) -> Table:
    rows = [[_p(label, s["label"]), _p(value, s["value"])] for label, value in view.rows()]
    table = Table(rows, colWidths=[52 * mm, width - 52 * mm], hAlign="LEFT")
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("LINEBELOW", (0, 0), (-1, -2), 0.25, colors.HexColor("#d5dbe1")),
    ]))
    return table


def render_pdf(view: CredentialView, verify_url: str) -> bytes:
    """The PDF of `view`; the QR code and the footer both lead to `verify_url`.

    `verify_url` is public (it goes on paper): pass the credential's public page or /verify URL,
    never one that carries a secret.
    """
    regular, bold = register_fonts()
    s = _styles(regular, bold)
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm, bottomMargin=16 * mm,
        title=f"{view.title or ''} — {view.learner or ''}", author=view.issuer or "",
        subject=view.label("document_title"), creator="edc-issuer", lang=view.lang,
    )
    width = doc.width
    story: list[Flowable] = [_header(view, verify_url, s, width), Spacer(1, 6 * mm)]
    box = _verdict_box(view, s, width)
    if box is not None:
        story += [box, Spacer(1, 5 * mm)]
    story.append(_facts(view, s, width))
    if view.description:
        story += [_p(view.label("description"), s["heading"]), _p(view.description, s["base"])]
    story.append(_p(view.label("learning_outcomes"), s["heading"]))
    if view.learning_outcomes:
        story.append(ListFlowable(
            [ListItem(_p(o, s["base"]), leftIndent=12) for o in view.learning_outcomes],
            bulletType="bullet", bulletFontName=regular, start="•", leftIndent=12,
        ))
    else:
        story.append(_p(view.label("not_stated"), s["base"]))
    if view.further_information:
        story += [_p(view.label("further_information"), s["heading"]), _p(view.further_information, s["base"])]
    story += [Spacer(1, 6 * mm), _p(f"{view.label('verify_at')}: {verify_url}", s["small"])]
    doc.build(story, onFirstPage=_band, onLaterPages=_band)
    return out.getvalue()


def _band(canvas, doc) -> None:
    """A thin coloured band at the top edge: enough to look like a document, not a form."""
    canvas.saveState()
    canvas.setFillColor(BAND)
    canvas.rect(0, A4[1] - 6 * mm, A4[0], 6 * mm, stroke=0, fill=1)
    canvas.restoreState()


def credential_pdf(sealed: bytes, lang: str, verify_url: str) -> bytes:
    """The PDF to attach next to the sealed file (any of our formats) in the learner's email.

    Read from the sealed document itself (not from the model), so the paper says exactly what the
    file says. It carries no verdict: a printed "valid" would outlive a revocation; the QR code
    leads to the verification of this very credential, which tells today's status.
    """
    from bridge.presentation.credential_view import view_from_document

    return render_pdf(view_from_document(sealed, lang), verify_url)
