"""A call profile that names a funder's Word template: checked when loaded, safe when it goes."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import docx
from sqlalchemy import select

from proposals.calls.loader import SHIPPED_DIR
from proposals.calls.schema import TEMPLATES_DIR
from proposals.models import CallProfileRecord, Proposal
from tests.budget_helpers import seeded, signed_in, the_proposal
from tests.conftest import csrf, make_user, sign_in

ACF = (SHIPPED_DIR / "eea-csf-poland.yaml").read_text(encoding="utf-8")


def _with_template(name: str, version: int = 90) -> str:
    text = ACF.replace("\nversion: ", f"\nversion: {version}\n_old_version: ", 1)
    text = "\n".join(line for line in text.splitlines() if not line.startswith("_old_version"))
    return (
        text + f"\nexport:\n  template: {name}\n"
        if "\nexport:" not in text
        else text.replace("\nexport:\n", f"\nexport:\n  template: {name}\n", 1)
    )


def _check(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "call.yaml"
    path.write_text(text, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "proposals.cli", "calls", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"},
    )


def test_calls_check_refuses_a_missing_or_unsafe_template_naming_the_field(tmp_path):
    for name, reason in [
        ("nowhere.docx", "no such file in proposals/calls/templates/"),
        ("../../secret.docx", "must be the name of a .docx file"),
        ("notes.txt", "must be the name of a .docx file"),
    ]:
        result = _check(tmp_path, _with_template(name))
        assert result.returncode == 1, result.stdout + result.stderr
        assert "export.template: " in result.stdout and reason in result.stdout, result.stdout
        assert "Traceback" not in result.stderr


def test_the_admin_upload_refuses_a_missing_template(client, db):
    make_user(db, email="admin@example.org", name="Ada Admin", is_admin=True)
    sign_in(client, "admin@example.org")
    response = client.post(
        "/admin/calls",
        data={"csrf_token": csrf(client, "/admin/calls"), "content": _with_template("gone.docx")},
        files={"file": ("", b"", "application/octet-stream")},
    )
    assert response.status_code == 422
    assert "no such file in proposals/calls/templates/" in response.text
    assert db.scalar(select(CallProfileRecord).where(CallProfileRecord.version == 90)) is None


def test_a_template_removed_after_the_profile_was_stored_is_an_export_message_not_a_500(app, db):
    seeded(db)
    path = TEMPLATES_DIR / "matrix-test-template.docx"
    TEMPLATES_DIR.mkdir(exist_ok=True)
    buffer = io.BytesIO()
    docx.Document().save(buffer)
    path.write_bytes(buffer.getvalue())
    try:
        from proposals.calls import library

        library.store(db, _with_template(path.name))
        db.commit()
    finally:
        path.unlink()
    proposal = the_proposal(db)
    db.execute(
        Proposal.__table__.update().where(Proposal.id == proposal.id).values(call_version=90)
    )
    db.commit()
    anna = signed_in(app, "anna@demo.engage")
    assert anna.get(f"/proposals/{proposal.public_id}").status_code == 200  # still works
    response = anna.post(
        f"/proposals/{proposal.public_id}/final/export",
        data={"csrf_token": csrf(anna), "kind": "application"},
    )
    assert response.status_code == 400
    assert "template of this call (matrix-test-template.docx) is missing" in response.text
