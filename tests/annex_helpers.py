"""Annexes as the browser sends them: a small real PDF, an upload with the page's token."""

from __future__ import annotations

import io

from tests.conftest import csrf
from tests.consortium_helpers import partner_of


def tiny_pdf(text: str = "Signed") -> bytes:
    """A small, valid one-page PDF (what a scanner or Word would give, only shorter)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects[3] = b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")  # type: ignore[operator]
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def upload_annex(client, path: str, name: str, data: bytes, **fields: str):  # type: ignore[no-untyped-def]
    pid = path.split("/")[2]
    token = csrf(client, f"/proposals/{pid}/annexes")
    return client.post(
        path,
        data={"csrf_token": token, **fields},
        files={"file": (name, data, "application/octet-stream")},
    )


def partner_annexes(db, team, who) -> str:  # type: ignore[no-untyped-def]
    partner = partner_of(db, team.pid, who.organisation)
    return f"/proposals/{team.pid}/partners/{partner.public_id}/annexes"
