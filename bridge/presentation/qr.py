"""QR codes of links, for the pages (inline SVG), Moodle's "Add to wallet" (the same SVG) and mails (PNG).

Kept here, below both the web pages and the worker, so neither imports the other for a picture.
"""
from __future__ import annotations

import io

import segno


def qr_svg(url: str) -> str:
    """An inline SVG QR code (no image request, works offline)."""
    return segno.make(url, error="m").svg_inline(scale=4, border=2, dark="#000", light="#fff")


def qr_png(url: str) -> bytes:
    """The link as a QR code picture, for a mail (a wallet on a phone scans it off the screen)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=6, border=3)
    return out.getvalue()
