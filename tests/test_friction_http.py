"""Friction fixed over HTTP: an administrator on a proposal is told why, not "not found"."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tests.budget_helpers import seeded, signed_in, the_proposal


def test_an_administrator_is_told_why_a_proposal_is_closed_to_them(app, db: Session) -> None:
    seeded(db)
    pid = the_proposal(db).public_id
    admin = signed_in(app, "admin@demo.engage")
    mentors = admin.get("/admin/mentors")
    assert mentors.status_code == 200 and "BVT" in mentors.text  # the proposal is listed there
    page = admin.get(f"/proposals/{pid}")
    assert page.status_code == 403
    assert "assign mentors on the Mentors page" in page.text
    # Its budget and sections are refused the same way, never with a server error.
    assert admin.get(f"/proposals/{pid}/budget").status_code == 403
    assert admin.get(f"/proposals/{pid}/sections").status_code == 403
