"""The submission package: every exported document in one .zip, byte-identical for the same files.

Entries are sorted by name and stamped with the snapshot's moment; a
``SHA256SUMS.txt`` lists each file's checksum, so the funder (or the lead
partner) can tell the files were not changed after export.
"""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Mapping
from datetime import UTC, datetime

CHECKSUMS = "SHA256SUMS.txt"


def build_package(files: Mapping[str, bytes], moment: datetime) -> bytes:
    """A .zip of ``files`` (name → bytes); another document is one more entry."""
    stamp = moment.astimezone(UTC).timetuple()[:6]
    stamp = (max(stamp[0], 1980), *stamp[1:])
    sums = "".join(f"{hashlib.sha256(files[name]).hexdigest()}  {name}\n" for name in sorted(files))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in [*sorted(files.items()), (CHECKSUMS, sums.encode())]:
            entry = zipfile.ZipInfo(name, date_time=stamp)  # type: ignore[arg-type]
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            archive.writestr(entry, data)
    return out.getvalue()
