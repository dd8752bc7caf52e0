"""PDFs written by hand (no PDF writer needed), for tests that read or upload PDFs."""

from __future__ import annotations

import io
import math

# a string drawn on a page: (x, y, font size, text[, degrees it is turned]), in points from the lower left
Drawn = tuple


def one_page_pdf(text: str) -> bytes:
    """A one-page PDF that shows ``text`` in Helvetica."""
    return pdf([[(72, 720, 12, text)]])


def pdf(pages: list[list[Drawn]]) -> bytes:
    """A PDF of A4-ish pages, each drawing its strings in Helvetica in the order given, each in
    its own BT/ET block (as a PDF writer draws a table's cells, or a page's header)."""
    def escaped(text: str) -> str:
        return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    n_pages = len(pages)
    font_id = 3 + 2 * n_pages
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [%s] /Count %d >>"
               % (b" ".join(b"%d 0 R" % (3 + 2 * i) for i in range(n_pages)), n_pages)]
    for i, drawn in enumerate(pages):
        stream = "\n".join(f"BT /F1 {d[2]} Tf {_place(*d)} ({escaped(d[3])}) Tj ET" for d in drawn)
        data = stream.encode("cp1252")
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 %d 0 R >> >> >>" % (4 + 2 * i, font_id))
        objects.append(b"<< /Length %d >>\nstream\n" % len(data) + data + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for n, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % n + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.write(b"".join(b"%010d 00000 n \n" % o for o in offsets))
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def _place(x: float, y: float, _size: float, _text: str, degrees: float = 0) -> str:
    """The operator that puts a string at (x, y), turned by ``degrees`` (a watermark's 45)."""
    if not degrees:
        return f"{x} {y} Td"
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return f"{c:.4f} {s:.4f} {-s:.4f} {c:.4f} {x} {y} Tm"


def wrapped(lines: list[str], top: float = 760, x: float = 60, size: float = 10, leading: float = 12) -> list[Drawn]:
    """``lines`` drawn one under another, as a paragraph's wrapped lines."""
    return [(x, top - k * leading, size, line) for k, line in enumerate(lines)]
