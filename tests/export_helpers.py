"""Open exported files the way a funder would: LibreOffice, pdftotext, the OOXML validator.

Missing tools make the tests fail, never skip: ``tests/run.sh`` installs them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).parent
VALIDATOR = ROOT / "ooxml" / "node_modules" / ".bin" / "ooxml-validator"
SOFFICE_TIMEOUT = 180


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is required to check exported files (see tests/run.sh)")
    return path


def validate_ooxml(path: Path) -> list[dict[str, object]]:
    """The Open XML SDK validator's errors for ``path`` (an empty list when valid)."""
    if not VALIDATOR.exists():
        pytest.fail("the OOXML validator is missing: run `npm ci --prefix tests/ooxml`")
    done = subprocess.run(
        [str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    report = json.loads(done.stdout)
    assert done.returncode in (0, 1), done.stderr
    return list(report["errors"]) if not report["ok"] else []


def to_pdf(path: Path) -> Path:
    """Convert with LibreOffice headless (own profile, a timeout); the PDF must exist."""
    soffice = tool("soffice")
    outdir = path.parent / f"pdf-{path.stem}"
    profile = path.parent / f"lo-profile-{uuid.uuid4().hex}"
    subprocess.run(
        [
            soffice,
            "--headless",
            f"-env:UserInstallation={profile.as_uri()}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(outdir),
            str(path),
        ],
        capture_output=True,
        timeout=SOFFICE_TIMEOUT,
        check=False,
    )
    pdf = outdir / f"{path.stem}.pdf"
    # LibreOffice can exit 0 without writing anything ("source file could not be loaded").
    assert pdf.exists() and pdf.stat().st_size > 0, f"LibreOffice did not convert {path.name}"
    return pdf


def pdf_text(pdf: Path) -> str:
    done = subprocess.run(
        [tool("pdftotext"), "-enc", "UTF-8", str(pdf), "-"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def squeeze(text: str) -> str:
    """Whitespace (and the narrow no-break spaces of Polish numbers) as single spaces."""
    return re.sub(r"[\s\u00a0\u202f]+", " ", text).strip()


def opened(data: bytes, tmp_path: Path, name: str) -> str:
    """Write ``data``, check it is schema-valid and opens in LibreOffice; the PDF's text."""
    path = tmp_path / name
    path.write_bytes(data)
    assert validate_ooxml(path) == []
    return pdf_text(to_pdf(path))
