"""Word to PDF with LibreOffice headless, bounded: one conversion at a time per worker.

Each conversion is one ``soffice`` process started by Engage with its own user
profile (kept for the life of the worker, so only the first conversion pays for
creating it). A small Basic macro in that profile loads the .docx hidden,
updates the table of contents and the other indexes twice (the contents can
push the pages on, so the second pass gets the numbers right) and writes the PDF.

- One at a time: a lock per worker process; a second request waits for it at
  most ``WAIT_SECONDS`` and is then told to try again.
- A time limit: the process group is killed after ``TIME_LIMIT`` seconds.
- No LibreOffice: ``available()`` is False, the PDF buttons say so, and a
  conversion raises ``Invalid`` with the same message.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import threading
from pathlib import Path
from xml.sax.saxutils import escape

from proposals.errors import Invalid
from proposals.i18n import gettext as _

TIME_LIMIT = float(os.environ.get("ENGAGE_PDF_TIME_LIMIT", "120"))
WAIT_SECONDS = 60.0

_lock = threading.Lock()
_profile: Path | None = None

MACRO = """\
Sub ToPdf(source As String, target As String)
  Dim load(0) As New com.sun.star.beans.PropertyValue
  load(0).Name = "Hidden" : load(0).Value = True
  document = StarDesktop.loadComponentFromURL(source, "_blank", 0, load())
  If IsNull(document) Then Exit Sub
  For pass = 1 To 2
    indexes = document.getDocumentIndexes()
    For i = 0 To indexes.getCount() - 1
      indexes.getByIndex(i).update()
    Next i
    document.getTextFields().refresh()
  Next pass
  Dim store(0) As New com.sun.star.beans.PropertyValue
  store(0).Name = "FilterName" : store(0).Value = "writer_pdf_Export"
  document.storeToURL(target, store())
  document.close(True)
End Sub

Sub ContentsPages(source As String, target As String)
  Dim load(0) As New com.sun.star.beans.PropertyValue
  load(0).Name = "Hidden" : load(0).Value = True
  document = StarDesktop.loadComponentFromURL(source, "_blank", 0, load())
  If IsNull(document) Then Exit Sub
  For pass = 1 To 2
    indexes = document.getDocumentIndexes()
    For i = 0 To indexes.getCount() - 1
      indexes.getByIndex(i).update()
    Next i
    document.getTextFields().refresh()
  Next pass
  indexes = document.getDocumentIndexes()
  If indexes.getCount() > 0 Then
    files = createUnoService("com.sun.star.ucb.SimpleFileAccess")
    out = createUnoService("com.sun.star.io.TextOutputStream")
    out.setOutputStream(files.openFileWrite(target))
    out.setEncoding("UTF-8")
    out.writeString(indexes.getByIndex(0).getAnchor().getString())
    out.closeOutput()
  End If
  document.close(True)
End Sub
"""

_MODULE = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" '
    '"module.dtd">\n'
    '<script:module xmlns:script="http://openoffice.org/2000/script" '
    'script:name="Engage" script:language="StarBasic">'
    f"{escape(MACRO)}</script:module>\n"
)
_LIBRARY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE library:library PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" '
    '"library.dtd">\n'
    '<library:library xmlns:library="http://openoffice.org/2000/library" '
    'library:name="Standard" library:readonly="false" library:passwordprotected="false">\n'
    ' <library:element library:name="Engage"/>\n'
    "</library:library>\n"
)


def soffice() -> str | None:
    """The LibreOffice program (``ENGAGE_SOFFICE`` or ``soffice`` on the PATH), if installed."""
    configured = os.environ.get("ENGAGE_SOFFICE", "").strip()
    if configured:
        return configured if os.access(configured, os.X_OK) else None
    return shutil.which("soffice") or shutil.which("libreoffice")


def available() -> bool:
    return soffice() is not None


def missing_message() -> str:
    return _(
        "PDF files are made with LibreOffice, which is not installed on this server. "
        "Export to Word instead, or ask the administrator to install LibreOffice."
    )


def _prepared_profile(program: str, time_limit: float) -> Path:
    """This worker's LibreOffice profile, with the macro in its Standard library.

    LibreOffice writes a fresh profile on its first start (and would overwrite
    a library put there before), so it starts once to create it.
    """
    global _profile
    if _profile is None or not (_profile / "user" / "basic" / "Standard" / "Engage.xba").exists():
        root = Path(tempfile.mkdtemp(prefix="engage-lo-"))
        _run(program, root, ["--terminate_after_init"], time_limit)
        standard = root / "user" / "basic" / "Standard"
        standard.mkdir(parents=True, exist_ok=True)
        (standard / "script.xlb").write_text(_LIBRARY, encoding="utf-8")
        (standard / "Engage.xba").write_text(_MODULE, encoding="utf-8")
        _profile = root
    return _profile


def _forget(profile: Path) -> None:
    global _profile
    _profile = None
    shutil.rmtree(profile, ignore_errors=True)


def _run(program: str, profile: Path, arguments: list[str], time_limit: float) -> None:
    """One ``soffice`` process in its own process group, killed as one after ``time_limit``."""
    process = subprocess.Popen(  # noqa: S603 - our program path, our arguments
        [
            program,
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            f"-env:UserInstallation={profile.as_uri()}",
            *arguments,
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        process.wait(timeout=time_limit)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        _forget(profile)  # a killed LibreOffice may leave its profile locked
        raise Invalid(
            _(
                "Making the PDF took longer than %(seconds)s seconds and was stopped. "
                "Try again later, or export to Word.",
                seconds=max(1, round(time_limit)),
            )
        ) from None


def docx_to_pdf(docx: bytes, time_limit: float | None = None) -> bytes:
    """The PDF of a .docx, its table of contents filled; ``Invalid`` says why when it cannot."""
    return as_pdfs({"file.docx": docx}, time_limit)["file.pdf"]


def as_pdfs(files: dict[str, bytes], time_limit: float | None = None) -> dict[str, bytes]:
    """Each ``name.docx`` as ``name.pdf`` (one after the other, holding the worker's turn)."""
    program = soffice()
    if program is None:
        raise Invalid(missing_message())
    if not _lock.acquire(timeout=WAIT_SECONDS):
        raise Invalid(_("Another PDF is being made right now. Try again in a minute."))
    limit = TIME_LIMIT if time_limit is None else time_limit
    try:
        return {
            name.removesuffix(".docx") + ".pdf": _convert(program, data, limit)
            for name, data in files.items()
        }
    finally:
        _lock.release()


def contents_pages(docx: bytes, time_limit: float | None = None) -> list[int] | None:
    """The page of each entry of the .docx's table of contents, as LibreOffice lays it out.

    None when LibreOffice is not installed, is busy past the wait, or gives no contents:
    the caller then keeps the file without page numbers (Word fills them on opening).
    """
    program = soffice()
    if program is None or not _lock.acquire(timeout=WAIT_SECONDS):
        return None
    try:
        profile = _prepared_profile(program, TIME_LIMIT if time_limit is None else time_limit)
        with tempfile.TemporaryDirectory(prefix="engage-toc-") as work:
            source, target = Path(work) / "in.docx", Path(work) / "contents.txt"
            source.write_bytes(docx)
            macro = (
                f'macro:///Standard.Engage.ContentsPages("{source.as_uri()}","{target.as_uri()}")'
            )
            _run(program, profile, [macro], TIME_LIMIT if time_limit is None else time_limit)
            if not target.exists():
                return None
            text = target.read_text(encoding="utf-8")
    except Invalid:
        return None
    finally:
        _lock.release()
    pages = []
    for line in text.replace("\r", "\n").splitlines():
        if not line.strip():
            continue
        _title, _tab, number = line.rpartition("\t")
        if not number.strip().isdigit():
            return None
        pages.append(int(number))
    return pages or None


def _convert(program: str, docx: bytes, time_limit: float) -> bytes:
    profile = _prepared_profile(program, time_limit)
    with tempfile.TemporaryDirectory(prefix="engage-pdf-") as work:
        source, target = Path(work) / "in.docx", Path(work) / "out.pdf"
        source.write_bytes(docx)
        macro = f'macro:///Standard.Engage.ToPdf("{source.as_uri()}","{target.as_uri()}")'
        _run(program, profile, [macro], time_limit)
        if not target.exists() or target.stat().st_size == 0:
            raise Invalid(_("LibreOffice could not make a PDF of this file. Export to Word."))
        return target.read_bytes()
