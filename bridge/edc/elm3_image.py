"""The picture an ELM v3 credential carries of itself, one per language (its `displayDetail.image`).

The EDC profile makes every credential carry an image of how it looks (the EU builder renders a
JPEG of its certificate page); Europass wallets show it as the credential's face. Ours is a plain
page: title, learner, issuer, date, ECTS and EQF level, drawn with Pillow in DejaVu Sans (it has the
Lithuanian letters). It is a courtesy view like the PDF: the data, not the picture, is what counts.

Kept small on purpose (two colours, PNG, about 10 KB) because it is embedded in every credential,
and deterministic (no time, no randomness in the file) so the same credential gives the same bytes.

Nothing personal is drawn on it (no name, no date: those are in the credential's data, which wallets
show beside the picture), so a course's picture is the same for every learner: drawn once per course
and language (`course_png`, cached), not for every credential (~25 ms each), and it costs next to
nothing in the registry, whose per-course compression dictionary already holds it.
"""
from __future__ import annotations

import base64
import io
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 1000, 700
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))

HEADINGS = {
    "en": ("Micro-credential", "awarded to", "Issued by", "Issued on", "ECTS credits", "EQF level"),
    "lt": ("Mikrokredencialas", "suteiktas", "Išdavė", "Išduota", "ECTS kreditai", "EKS lygis"),
}


@lru_cache(maxsize=16)
def _font(size: int, bold: bool = False) -> ImageFont.ImageFont:
    name = "DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return ImageFont.truetype(str(folder / name), size)
    return ImageFont.load_default(size)  # no DejaVu: Pillow's own font (may lack some letters)


def _wrapped(draw: ImageDraw.ImageDraw, text: str, font: ImageFont.ImageFont, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if draw.textlength(trial, font=font) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    return lines + ([line] if line else [])


@lru_cache(maxsize=256)
def course_png(lang: str, *, title: str, issuer: str, ects: str, eqf: str) -> bytes:
    """The course's picture in `lang`: what every credential of the course shows, nobody's name on it."""
    return render_png(lang, title=title, learner=None, issuer=issuer, issued=None, ects=ects, eqf=eqf)


@lru_cache(maxsize=256)
def course_png_base64(lang: str, *, title: str, issuer: str, ects: str, eqf: str) -> str:
    """course_png as the base64 text a credential embeds (also computed once)."""
    return base64.b64encode(course_png(lang, title=title, issuer=issuer, ects=ects, eqf=eqf)).decode("ascii")


def render_png(lang: str, *, title: str, learner: str | None, issuer: str, issued: str | None, ects: str,
               eqf: str) -> bytes:
    """One page, in `lang` (English headings when we have none in that language); the learner and the
    date only when given (course_png gives neither)."""
    head, awarded, by, on, ects_label, eqf_label = HEADINGS.get(lang, HEADINGS["en"])
    image = Image.new("1", (WIDTH, HEIGHT), 1)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH - 1, 70), fill=0)
    draw.text((40, 18), head, font=_font(30, bold=True), fill=1)
    y = 110
    for line in _wrapped(draw, title, _font(38, bold=True), WIDTH - 80)[:3]:
        draw.text((40, y), line, font=_font(38, bold=True), fill=0)
        y += 50
    y += 20
    if learner:
        draw.text((40, y), awarded, font=_font(22), fill=0)
        draw.text((40, y + 32), learner, font=_font(34, bold=True), fill=0)
        y += 110
    facts = ((by, issuer), (on, issued), (ects_label, ects), (eqf_label, eqf))
    for label, value in (fact for fact in facts if fact[1]):
        draw.text((40, y), label, font=_font(20), fill=0)
        for line in _wrapped(draw, value, _font(24), WIDTH - 340)[:2]:
            draw.text((300, y - 2), line, font=_font(24), fill=0)
            y += 32
        y += 14
    draw.rectangle((0, HEIGHT - 8, WIDTH - 1, HEIGHT - 1), fill=0)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=9)
    return out.getvalue()
