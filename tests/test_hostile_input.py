"""Hostile input against budgets, mentor reviews, notifications and the final stage.

Every route of these areas gets what a browser never sends: missing fields, wrong
types, 1 MB strings, control characters, script, negative and huge numbers, dates
that do not exist, forged ids from another proposal, stale versions, the same form
twice, and people who may not be there. Each gets a clear answer, nothing stored.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from proposals.models import (
    BudgetLine,
    Export,
    FundingSource,
    Partner,
    Proposal,
    ProposalAccess,
    ReviewRound,
    SectionVerdict,
    SignOff,
    User,
)
from tests.budget_helpers import field_errors_of, line_form, seeded, signed_in
from tests.conftest import csrf, make_user, post, row_counts, sign_in
from tests.consortium_helpers import XSS, XSS_ESCAPED, field_errors, flash_of, partner_of
from tests.test_final import _signing
from tests.test_reviews import drafting, request_review

MB = "x" * 1_000_000
SHORT_XSS = "<script>x</script>"  # fits a 40-character field
FUNDING = {"grant": "100", "own_cash": "0", "other_donor": "0", "national": "0"}


@dataclass
class Demo:
    """The demo consortium (in review) and a second, unrelated one to forge ids from."""

    pid: str
    anna: TestClient  # coordinator
    ola: TestClient  # the Norwegian partner's writer
    marta: TestClient  # the demo's mentor
    admin: TestClient  # platform admin, no role in the proposal
    pl: str
    no: str
    line: BudgetLine
    round: str
    other_pid: str = ""
    other_partner: str = ""
    other_line: str = ""
    other_round: str = ""
    other_export: str = ""

    def url(self, tail: str = "") -> str:
        return f"/proposals/{self.pid}{tail}"


def the_proposal(db) -> Proposal:  # type: ignore[no-untyped-def]
    """The demo proposal (the other consortium's is "BYC")."""
    db.expire_all()
    return db.scalars(select(Proposal).where(Proposal.acronym == "BVT")).one()


def partner(db, country: str) -> Partner:  # type: ignore[no-untyped-def]
    return next(p for p in the_proposal(db).partners if p.organisation.country == country)


def lines_of(db, country: str) -> list[BudgetLine]:  # type: ignore[no-untyped-def]
    query = select(BudgetLine).where(BudgetLine.partner_id == partner(db, country).id)
    return list(db.scalars(query.order_by(BudgetLine.id)))


@pytest.fixture
def demo(app, db) -> Demo:  # type: ignore[no-untyped-def]
    seeded(db)
    proposal = the_proposal(db)
    return Demo(
        pid=proposal.public_id,
        anna=signed_in(app, "anna@demo.engage"),
        ola=signed_in(app, "ola@demo.engage"),
        marta=signed_in(app, "marta@demo.engage"),
        admin=signed_in(app, "admin@demo.engage"),
        pl=partner(db, "PL").public_id,
        no=partner(db, "NO").public_id,
        line=next(x for x in lines_of(db, "PL") if x.category != "indirect"),
        round=db.scalar(select(ReviewRound.public_id)),
    )


@pytest.fixture
def other(app, db, demo) -> Demo:  # type: ignore[no-untyped-def]
    """The demo, and the ids of a second consortium's partner, line, round and export."""
    team, mentor = drafting(app, db)
    demo.other_round = request_review(team, mentor).rsplit("/", 1)[1]
    demo.other_pid = team.pid
    demo.other_partner = lead = partner_of(db, team.pid, team.lead.organisation).public_id
    post(team.lead.client, f"/proposals/{team.pid}/budget/{lead}/lines", line_form())
    exported = post(team.lead.client, f"/proposals/{team.pid}/final/export", {"kind": "package"})
    assert exported.status_code == 200
    db.expire_all()
    query = select(BudgetLine.public_id).join(Partner).where(Partner.public_id == lead)
    demo.other_line = db.scalar(query)
    demo.other_export = db.scalar(select(Export.public_id))
    return demo


def budget(d: Demo, tail: str = "") -> str:
    return d.url(f"/budget{tail}")


def verdict_url(d: Demo, key: str = "uzasadnienie", rid: str | None = None) -> str:
    return d.url(f"/reviews/{rid or d.round}/sections/{key}")


def post_routes(d: Demo) -> list[str]:
    """Every POST route of the three areas, on the demo proposal."""
    line = budget(d, f"/{d.pl}/lines/{d.line.public_id}")
    return [
        budget(d, "/workbook"),
        budget(d, f"/{d.pl}/lines"),
        line,
        line + "/delete",
        budget(d, f"/{d.pl}/flat/indirect"),
        budget(d, f"/{d.pl}/funding"),
        d.url("/mentors"),
        d.url("/reviews/new"),
        verdict_url(d),
        d.url("/final/sign-off"),
        d.url("/final/export"),
        d.url("/final/submission"),
        d.url("/final/word"),
        d.url("/final/word/apply"),
        "/notifications/read",
        "/admin/mentors",
    ]


def get_routes(d: Demo) -> list[str]:
    return [
        budget(d),
        budget(d, "/history"),
        budget(d, "/workbook"),
        d.url("/reviews"),
        d.url("/reviews/new"),
        d.url(f"/reviews/{d.round}"),
        d.url("/final"),
        d.url("/exports/" + (d.other_export or "x")),
        "/reviews",
        "/notifications",
        "/notifications/events",
        "/admin/mentors",
    ]


def count(db, model) -> int:  # type: ignore[no-untyped-def]
    db.expire_all()
    return len(db.scalars(select(model)).all())


# --- who may be there -------------------------------------------------------------------


def test_signed_out_visitors_are_sent_to_sign_in_everywhere(app, db, demo):
    before = row_counts(db)
    visitor = TestClient(app, raise_server_exceptions=False, follow_redirects=False)
    token = csrf(visitor, "/signin")
    for path in get_routes(demo):
        response = visitor.get(path)
        assert response.status_code == 303, path
        assert "/signin?next=" in response.headers["location"], path
    for path in post_routes(demo):
        response = visitor.post(path, data={"csrf_token": token, "kind": "package"})
        assert response.status_code == 303, path
        assert "/signin?next=" in response.headers["location"], path
    assert row_counts(db) == before


def test_get_on_post_only_routes_is_405(demo):
    for path in post_routes(demo):
        if path.endswith(("/workbook", "/reviews/new", "/admin/mentors")):
            continue  # these are pages too
        assert demo.anna.get(path).status_code == 405, path


def test_outsiders_get_404_and_a_mentor_of_other_consortia_403(app, db, other):
    demo = other
    nobody = make_user(db, email="nobody@example.org", name="No Role")
    stranger = TestClient(app, raise_server_exceptions=False)
    sign_in(stranger, email=nobody.email)
    before = row_counts(db)
    proposal_routes = [p for p in get_routes(demo) + post_routes(demo) if demo.pid in p]
    # An administrator lists every proposal (to assign mentors) and is told why it is
    # closed to them; a stranger is not told that it exists.
    # (A form naming no partner is a 404 for both.)
    for client, refusals in ((demo.admin, (403, 404)), (stranger, (404,))):
        for path in proposal_routes:
            response = client.get(path) if path in get_routes(demo) else post(client, path)
            assert response.status_code in (*refusals, 405), path
            if response.status_code == 405:
                assert post(client, path, {"kind": "package"}).status_code in refusals, path
    # Marta mentors the demo, not the other consortium: she is told it is not hers.
    for tail in ("/budget", "/reviews", f"/reviews/{demo.other_round}", "/final"):
        assert demo.marta.get(f"/proposals/{demo.other_pid}{tail}").status_code == 403, tail
    assert stranger.get("/admin/mentors").status_code == 403
    mentor = {"name": "X", "email": "x@example.org"}
    assert post(stranger, "/admin/mentors", mentor).status_code == 403
    assert row_counts(db) == before


@pytest.mark.parametrize("role", ["mentor", "viewer"])
def test_mentors_and_viewers_never_change_budget_reviews_or_the_final_stage(app, db, demo, role):
    if role == "mentor":
        client = demo.marta
    else:
        viewer = make_user(db, email="vera@example.org", name="Vera Viewer")
        db.add(ProposalAccess(proposal_id=the_proposal(db).id, user_id=viewer.id, role="viewer"))
        db.commit()
        client = TestClient(app, raise_server_exceptions=False)
        sign_in(client, email=viewer.email)
    assert client.get(budget(demo)).status_code == 200  # they read
    before = row_counts(db)
    line = budget(demo, f"/{demo.pl}/lines/{demo.line.public_id}")
    refused = {
        budget(demo, f"/{demo.pl}/lines"): line_form(),
        line: {**line_form(), "version": str(demo.line.version)},
        line + "/delete": {"version": str(demo.line.version)},
        budget(demo, f"/{demo.pl}/flat/indirect"): {"rate": "7"},
        budget(demo, f"/{demo.pl}/funding"): FUNDING,
        budget(demo, "/workbook"): {},
        demo.url("/mentors"): {"mentor": "1"},
        demo.url("/reviews/new"): {"mentor": "1", "sections": ["cele"]},
        demo.url("/final/sign-off"): {"partner": demo.pl},
        demo.url("/final/export"): {"kind": "application"},
        demo.url("/final/submission"): {"submitted_on": "2026-01-05", "reference": "R"},
    }
    if role == "viewer":
        refused[verdict_url(demo)] = {"verdict": "approved"}
    for path, data in refused.items():
        assert post(client, path, data).status_code == 403, path
    assert row_counts(db) == before


# --- forged ids -------------------------------------------------------------------------


def test_ids_from_another_proposal_are_404_and_change_nothing(db, other):
    before = row_counts(db)
    d = other
    forged = [
        (d.anna, budget(d, f"/{d.other_partner}/lines"), line_form()),
        (d.anna, budget(d, f"/{d.pl}/lines/{d.other_line}"), line_form()),
        (d.anna, budget(d, f"/{d.pl}/lines/{d.other_line}/delete"), {}),
        (d.anna, budget(d, f"/{d.other_partner}/funding"), FUNDING),
        (d.anna, budget(d, f"/{d.other_partner}/flat/indirect"), {"rate": "7"}),
        # A line of another partner of the same proposal, under the wrong partner.
        (d.anna, budget(d, f"/{d.no}/lines/{d.line.public_id}"), line_form()),
        (d.marta, verdict_url(d, rid=d.other_round), {"verdict": "approved"}),
        (d.marta, verdict_url(d, key="no-such-section"), {"verdict": "approved"}),
        (d.anna, d.url("/final/sign-off"), {"partner": d.other_partner}),
        (d.anna, d.url("/final/sign-off"), {"partner": MB}),
        (d.anna, d.url("/final/declaration"), {"partner": d.other_partner}),
    ]
    for client, path, data in forged:
        assert post(client, path, data).status_code == 404, path
    for path in (
        d.url(f"/reviews/{d.other_round}"),
        d.url(f"/exports/{d.other_export}"),
        d.url("/reviews/" + "x" * 5000),
        f"/proposals/{'x' * 5000}/budget",
    ):
        assert d.anna.get(path).status_code == 404, path
    assert row_counts(db) == before


@pytest.mark.parametrize(
    "mentor", ["", "abc", "²", "9" * 30, "9" * 5000, "-1", "1.5", "<script>", "anna"]
)
def test_forged_mentor_ids_are_refused_with_a_message(db, demo, mentor):
    if mentor == "anna":  # a real id, but not a mentor
        mentor = str(db.scalar(select(User.id).where(User.email == "anna@demo.engage")))
    before = row_counts(db)
    response = post(demo.anna, demo.url("/mentors"), {"mentor": mentor})
    assert response.status_code == 200
    assert flash_of(response, "error") == ["Choose one of the options."]
    data = {"action": "assign", "mentor": mentor, "proposal": demo.pid}
    response = post(demo.admin, "/admin/mentors", data)
    assert flash_of(response, "error") == ["Choose one of the options."]
    assert row_counts(db) == before


def test_admin_assigning_to_a_forged_proposal_or_adding_a_mentor_twice_says_so(db, demo):
    marta = str(db.scalar(select(User.id).where(User.email == "marta@demo.engage")))
    before = row_counts(db)
    for pid in ("", MB, "<script>"):
        data = {"action": "assign", "mentor": marta, "proposal": pid}
        response = post(demo.admin, "/admin/mentors", data)
        assert flash_of(response, "error") == ["Choose one of the options."]
    response = post(demo.anna, demo.url("/mentors"), {"mentor": marta})
    assert flash_of(response, "error") == ["Marta Wiśniewska takes part in this proposal already."]
    assert row_counts(db) == before


# --- budget lines -------------------------------------------------------------------------

BAD_LINES = [
    ({}, "description", "This field is required."),
    ({"description": MB}, "description", "Use at most 300 characters (this has 1000000)."),
    ({"description": "=cmd|' /C calc'!A0"}, "description", "Start with a letter or digit"),
    ({"unit": MB}, "unit", "Use at most 40 characters"),
    ({"quantity": "-1"}, "quantity", "Enter zero or more; a negative figure is not allowed here."),
    ({"quantity": "9" * 5000}, "quantity", "Enter at most 999,999,999,999.99."),
    ({"unit_cost": "1e999"}, "unit_cost", "Enter a number, for example 1,234.50."),
    ({"unit_cost": "NaN"}, "unit_cost", "Enter a number, for example 1,234.50."),
    ({"unit_cost": "abc"}, "unit_cost", "Enter a number, for example 1,234.50."),
    ({"unit_cost": "1.005"}, "unit_cost", "Use at most 2 decimals."),
    ({"quantity": "999999999", "unit_cost": "99999"}, "quantity", "The amount would be above"),
    ({"category": MB}, "category", "Use at most 40 characters"),
    ({"category": "indirect"}, "category", "Choose one of the options."),
    ({"category": "<script>"}, "category", "Choose one of the options."),
    ({"currency": "QQQ"}, "currency", "Enter a currency code such as EUR, NOK or PLN."),
    ({"currency": MB}, "currency", "Enter a currency code such as EUR, NOK or PLN."),
    (
        {"currency": "NOK", "exchange_rate": "0.1", "rate_date": "2026-02-30"},
        "rate_date",
        "Enter a date as YYYY-MM-DD.",
    ),
    (
        {"currency": "NOK", "exchange_rate": "0.1", "rate_date": "99999-01-01"},
        "rate_date",
        "Enter a date as YYYY-MM-DD.",
    ),
    (
        {"currency": "NOK", "exchange_rate": "9" * 400, "rate_date": "2026-01-05"},
        "exchange_rate",
        "Enter at most 1,000,000.",
    ),
    ({"currency": "NOK", "rate_date": "2026-01-05"}, "exchange_rate", "Give the rate from NOK"),
]


@pytest.mark.parametrize(("fields", "name", "message"), BAD_LINES)
def test_bad_budget_lines_are_refused_next_to_the_field(db, demo, fields, name, message):
    version = demo.line.version
    before = row_counts(db)
    data = line_form(**fields) if fields else {}
    response = post(demo.anna, budget(demo, f"/{demo.pl}/lines"), data)
    assert response.status_code == 422
    assert field_errors_of(response)[name].startswith(message)
    for key, value in data.items():  # what the user typed comes back (escaped), unless huge
        if key != "category" and value and len(value) < 5000:
            assert f'value="{html.escape(value, quote=True)}"' in response.text.replace(
                "&#34;", "&quot;"
            ).replace("&#39;", "&#x27;")
    # The same input changing an existing line: refused too, the line untouched.
    line = budget(demo, f"/{demo.pl}/lines/{demo.line.public_id}")
    response = post(demo.anna, line, {**data, "version": str(version)})
    assert response.status_code == 422 and name in field_errors_of(response)
    assert row_counts(db) == before
    db.refresh(demo.line)
    assert demo.line.version == version


def test_script_and_control_characters_in_budget_text_are_kept_as_text(db, demo):
    data = line_form(description=XSS, unit=SHORT_XSS, period="WP\x01\x02\x00 1\x7f")
    response = post(demo.anna, budget(demo, f"/{demo.pl}/lines"), data)
    assert response.status_code == 200
    stored = next(x for x in lines_of(db, "PL") if x.description == XSS)
    assert (stored.description, stored.unit, stored.period) == (XSS, SHORT_XSS, "WP 1")
    funding = {**FUNDING, "note": XSS}
    assert post(demo.anna, budget(demo, f"/{demo.pl}/funding"), funding).status_code == 200
    for path in (budget(demo), budget(demo, "/history"), budget(demo, "?edit=" + XSS)):
        page = demo.anna.get(path).text
        assert "<script>" not in page and XSS_ESCAPED in page, path
    assert "&lt;script&gt;x&lt;/script&gt;" in demo.anna.get(budget(demo)).text


@pytest.mark.parametrize(
    ("fields", "name", "message"),
    [
        ({"grant": "-5"}, "grant", "Enter zero or more"),
        ({"grant": "9" * 20}, "grant", "Enter at most 999,999,999,999.99."),
        ({"own_cash": "1e5"}, "own_cash", "Enter a number"),
        ({"national": ""}, "national", "This field is required."),
        ({"in_kind_hours": "999999999999"}, "in_kind_hours", "Enter at most"),
        ({"in_kind_hours": "-3"}, "in_kind_hours", "Enter zero or more"),
        ({"note": MB}, "note", "Use at most 300 characters"),
        ({"note": "@SUM(A1)"}, "note", "Start with a letter or digit"),
    ],
)
def test_bad_funding_is_refused_next_to_the_field(db, demo, fields, name, message):
    before = row_counts(db)
    response = post(demo.anna, budget(demo, f"/{demo.pl}/funding"), {**FUNDING, **fields})
    assert response.status_code == 422
    assert f'name="{name}"' in response.text and message in html.unescape(response.text)
    assert row_counts(db) == before
    forged = {**FUNDING, "grant": "5", "stamp": MB}  # not the stamp the form was shown with
    assert post(demo.anna, budget(demo, f"/{demo.pl}/funding"), forged).status_code == 409
    assert row_counts(db) == before


@pytest.mark.parametrize(
    ("category", "rate", "message"),
    [
        ("indirect", "101", "Enter at most 100"),
        ("indirect", "-7", "Enter zero or more"),
        ("indirect", "abc", "Enter a number"),
        ("indirect", "", "This field is required."),
    ],
)
def test_bad_flat_rates_are_refused(db, demo, category, rate, message):
    before = row_counts(db)
    response = post(demo.anna, budget(demo, f"/{demo.pl}/flat/{category}"), {"rate": rate})
    assert response.status_code == 422
    assert message in html.unescape(response.text)
    # A category that is no flat rate of the call (staff, forged) has no form: 404.
    for forged in ("staff", "<script>", "x" * 5000):
        response = post(demo.anna, budget(demo, f"/{demo.pl}/flat/{forged}"), {"rate": rate})
        assert response.status_code == 404
    assert row_counts(db) == before


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (None, "Choose the workbook to upload."),
        (("budget.xlsx", b"", "application/octet-stream"), "not an Excel workbook"),
        (("budget.xlsx", b"<script>not a zip", "text/html"), "not an Excel workbook"),
        (("budget.xlsx", b"\0" * (5 * 1024 * 1024 + 1), "application/zip"), "larger than 5 MB"),
    ],
)
def test_bad_workbook_uploads_are_refused_with_a_message(db, demo, upload, message):
    before = row_counts(db)
    token = csrf(demo.anna, budget(demo))
    files = {"workbook": upload} if upload else None
    data = {"csrf_token": token, **({"workbook": "just text"} if upload is None else {})}
    response = demo.anna.post(budget(demo, "/workbook"), data=data, files=files)
    assert response.status_code == 422
    assert message in html.unescape(response.text)
    assert row_counts(db) == before


# --- stale versions and double clicks in the budget ---------------------------------------


@pytest.mark.parametrize("version", ["0", "999", "-1", "abc", "9" * 50, "²"])
def test_stale_or_forged_line_versions_are_409_and_store_nothing(db, demo, version):
    before = row_counts(db)
    line = budget(demo, f"/{demo.pl}/lines/{demo.line.public_id}")
    response = post(demo.anna, line, {**line_form(), "version": version})
    assert response.status_code == 409
    assert "Someone else changed these figures a moment ago" in response.text
    response = post(demo.anna, line + "/delete", {"version": version})
    assert response.status_code == 409
    assert row_counts(db) == before


def test_the_same_budget_forms_sent_twice_have_one_effect(db, demo):
    version = demo.line.version
    add = budget(demo, f"/{demo.pl}/lines")
    page = demo.anna.get(budget(demo)).text
    stamp = re.search(rf'action="{add}".*?name="lines_stamp" value="(\w+)"', page, re.S).group(1)
    lines = len(lines_of(db, "PL"))
    form = line_form(lines_stamp=stamp)
    for _press in range(2):
        assert post(demo.anna, add, form).status_code == 200
    assert len(lines_of(db, "PL")) == lines + 1
    # A new form (the page after the first press) adds the same line again, on purpose.
    page = demo.anna.get(budget(demo)).text
    stamp = re.search(rf'action="{add}".*?name="lines_stamp" value="(\w+)"', page, re.S).group(1)
    assert post(demo.anna, add, line_form(lines_stamp=stamp)).status_code == 200
    assert len(lines_of(db, "PL")) == lines + 2

    line = budget(demo, f"/{demo.pl}/lines/{demo.line.public_id}")
    change = {**line_form(description="Changed once"), "version": str(version)}
    assert post(demo.anna, line, change).status_code == 200
    assert post(demo.anna, line, change).status_code == 409
    db.refresh(demo.line)
    assert demo.line.description == "Changed once" and demo.line.version > version
    delete = {"version": str(demo.line.version)}
    assert post(demo.anna, line + "/delete", delete).status_code == 200
    assert post(demo.anna, line + "/delete", delete).status_code == 404
    assert len(lines_of(db, "PL")) == lines + 1

    funding = dict(FUNDING)
    page = demo.anna.get(budget(demo)).text
    funding_action = budget(demo, f"/{demo.pl}/funding")
    funding["stamp"] = re.search(
        rf'action="{funding_action}".*?name="stamp" value="(\w+)"', page, re.S
    ).group(1)
    funding["grant"] = "1234"
    assert post(demo.anna, funding_action, funding).status_code == 200
    assert post(demo.anna, funding_action, funding).status_code == 409
    db.expire_all()
    grant = db.scalar(
        select(FundingSource).where(
            FundingSource.partner_id == partner(db, "PL").id, FundingSource.kind == "grant"
        )
    )
    assert str(grant.amount) == "1234.00"


# --- review rounds and verdicts -------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "name", "message"),
    [
        ({"due_date": "2026-02-30"}, "due_date", "Enter a date as YYYY-MM-DD."),
        ({"due_date": MB}, "due_date", "Enter a date as YYYY-MM-DD."),
        ({"note": MB}, "note", "Use at most 2000 characters"),
        ({"mentor": "9" * 30}, "__all__", "Use at most 20 characters"),
        ({"mentor": "²"}, "__all__", "Choose one of the options."),
        ({"sections": []}, "__all__", "Choose at least one section."),
        ({"sections": ["<script>", MB]}, "__all__", "Choose at least one section."),
        ({"sections": ["cele"]}, "__all__", "“Cele projektu” has no text yet."),
        ({"sections": ["dzialania"]}, "__all__", "is already waiting for a review."),
    ],
)
def test_bad_review_requests_are_refused_with_a_message(db, demo, fields, name, message):
    marta = str(db.scalar(select(User.id).where(User.email == "marta@demo.engage")))
    before = row_counts(db)
    data = {"mentor": marta, "sections": ["cele"], "due_date": "2027-01-10", "note": XSS, **fields}
    response = post(demo.anna, demo.url("/reviews/new"), data)
    assert response.status_code == 422
    text = html.unescape(response.text)
    assert message in (field_errors(response).get(name, "") if name != "__all__" else text)
    if len(data["note"]) < 5000:
        assert XSS_ESCAPED in response.text and "<script>" not in response.text
    assert row_counts(db) == before


@pytest.mark.parametrize(
    "score", ["31", "-1", "1.5", "abc", "²", "٣", "9" * 5000, "1e1", "<script>"]
)
def test_scores_out_of_range_or_not_numbers_are_refused(db, demo, score):
    before = row_counts(db)
    data = {"verdict": "approved", "comment": XSS, "score-trafnosc": score, "score-jakosc": "7"}
    response = post(demo.marta, verdict_url(demo), data)
    assert response.status_code == 422
    assert "Enter whole points from 0 to 30." in html.unescape(response.text)
    assert XSS_ESCAPED in response.text and "<script>" not in response.text  # comment kept
    assert 'value="7"' in response.text
    assert row_counts(db) == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "This field is required."),
        ({"verdict": "approved", "comment": MB}, "Use at most 5000 characters"),
        ({"verdict": "x" * 31}, "Use at most 30 characters"),
        ({"verdict": "changes_requested", "comment": "  "}, "Say what should change"),
    ],
)
def test_bad_verdicts_are_refused_next_to_the_field(db, demo, data, message):
    before = row_counts(db)
    response = post(demo.marta, verdict_url(demo), data)
    assert response.status_code == 422
    assert message in html.unescape(response.text)
    assert row_counts(db) == before


def test_an_unknown_verdict_or_a_second_press_says_so_and_stores_one_verdict(db, demo):
    before = row_counts(db)
    response = post(demo.marta, verdict_url(demo), {"verdict": "<script>", "comment": "ok"})
    assert flash_of(response, "error") == ["Choose one of the options."]
    assert row_counts(db) == before
    data = {"verdict": "changes_requested", "comment": XSS, "score-trafnosc": "12"}
    first = post(demo.marta, verdict_url(demo), data)
    assert first.status_code == 200 and not flash_of(first, "error")
    second = post(demo.marta, verdict_url(demo), data)
    assert flash_of(second, "error") == ["This section has a verdict already."]
    db.expire_all()
    decided = db.scalars(select(SectionVerdict).where(SectionVerdict.comment == XSS)).all()
    assert len(decided) == 1 and decided[0].scores == {"trafnosc": 12}
    # The comment reaches the round page and the writers' section page as text.
    for client, path in (
        (demo.marta, demo.url(f"/reviews/{demo.round}")),
        (demo.anna, demo.url("/sections/uzasadnienie")),
    ):
        page = client.get(path).text
        assert XSS_ESCAPED in page and "<script>" not in page, path


def test_a_second_review_request_for_the_same_sections_is_refused(app, db):
    team, mentor = drafting(app, db)
    url = f"/proposals/{team.pid}/reviews/new"
    data = {
        "mentor": str(mentor.user.id),
        "sections": ["streszczenie", "uzasadnienie"],
        "note": XSS,
    }
    assert not flash_of(post(team.lead.client, url, data), "error")
    again = post(team.lead.client, url, data)
    assert again.status_code == 422
    assert "is already waiting for a review." in html.unescape(again.text)
    assert count(db, ReviewRound) == 1
    round_page = team.lead.client.get(team.lead.client.get(f"/proposals/{team.pid}/reviews").url)
    assert "<script>" not in round_page.text


def test_admin_mentor_form_refuses_bad_input_and_escapes_names(db, demo):
    before = row_counts(db)
    for data, name, message in (
        ({"name": "", "email": "m@example.org"}, "name", "This field is required."),
        ({"name": MB, "email": "m@example.org"}, "name", "Use at most 120 characters"),
        ({"name": "M", "email": MB}, "email", "Use at most 254 characters"),
        ({"name": "M", "email": "<script>@x"}, "email", "Enter an e-mail address"),
    ):
        response = post(demo.admin, "/admin/mentors", data)
        assert response.status_code == 422
        assert field_errors(response)[name].startswith(message)
    assert row_counts(db) == before
    response = post(demo.admin, "/admin/mentors", {"name": XSS, "email": "m@example.org"})
    assert response.status_code == 200
    page = demo.admin.get("/admin/mentors").text
    assert XSS_ESCAPED in page and "<script>" not in page


def test_marking_notifications_read_twice_is_harmless(db, demo):
    for _press in range(2):
        response = post(demo.marta, "/notifications/read", {"junk": MB})
        assert flash_of(response, "success") == ["All notifications are marked as read."]
    assert "<script>" not in demo.marta.get("/notifications").text


# --- the final stage --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "name", "message"),
    [
        ({}, "submitted_on", "This field is required."),
        ({"submitted_on": "2026-02-30"}, "submitted_on", "Enter a date as YYYY-MM-DD."),
        ({"submitted_on": "9" * 100}, "submitted_on", "Enter a date as YYYY-MM-DD."),
        ({"submitted_on": "2999-01-05", "reference": "R"}, "submitted_on", "Enter the day"),
        ({"submitted_on": "2026-01-05", "reference": ""}, "reference", "This field is required."),
        ({"submitted_on": "2026-01-05", "reference": MB}, "reference", "Use at most 100"),
    ],
)
def test_bad_submissions_are_refused_next_to_the_field(db, demo, fields, name, message):
    # Before the proposal is signed the form is not there: whatever is sent, it says why.
    response = post(demo.anna, demo.url("/final/submission"), fields)
    assert flash_of(response, "error") == [
        "The proposal must be signed before the submission is recorded."
    ]
    row = the_proposal(db)
    row.status = "final.signed"  # arranged directly, as in test_final
    db.commit()
    before = row_counts(db)
    response = post(demo.anna, demo.url("/final/submission"), fields)
    assert response.status_code == 422
    assert field_errors(response)[name].startswith(message)
    assert row_counts(db) == before and the_proposal(db).submitted_on is None
    assert post(demo.ola, demo.url("/final/submission"), fields).status_code == 403


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"kind": "<script>"},
        {"kind": MB},
        {"kind": "declaration"},
        {"kind": "declaration", "partner": ""},
    ],
)
def test_unknown_export_kinds_are_400(db, demo, data):
    before = row_counts(db)
    assert post(demo.anna, demo.url("/final/export"), data).status_code == 400
    assert row_counts(db) == before


def test_signing_off_twice_or_before_signing_says_so_and_records_once(app, db, demo):
    response = post(demo.anna, demo.url("/final/sign-off"), {"partner": demo.pl})
    assert flash_of(response, "error") == [
        "Sign-offs are collected once the coordinator moves to sign-off."
    ]
    assert count(db, SignOff) == 0
    team = _signing(app, db)
    url = f"/proposals/{team.pid}/final/sign-off"
    mine = partner_of(db, team.pid, team.partner.organisation).public_id
    for _press in range(2):
        response = post(team.partner.client, url, {"partner": mine, "confirmed": "1"})
        assert flash_of(response, "success") == ["Frivillig has signed off."]
    assert count(db, SignOff) == 2  # its sections and its budget, once
    submission = {"submitted_on": "2026-01-05", "reference": XSS}
    response = post(team.lead.client, f"/proposals/{team.pid}/final/submission", submission)
    assert flash_of(response, "error") == [
        "The proposal must be signed before the submission is recorded."
    ]


@pytest.mark.parametrize("odd", ["²", "9" * 30, "-1", "1e3", " 1"])
def test_odd_digits_in_section_and_consortium_ids_are_refused_not_a_500(db, demo, odd):
    """ "²" passes str.isdigit but not int(), and 10**30 fits no database integer."""
    section = demo.url("/sections/uzasadnienie")
    before = row_counts(db)
    contact_before = partner(db, "NO").contact_user_id
    token = csrf(demo.anna, section)
    save = demo.anna.post(
        section + "/save",
        data={"csrf_token": token, "base": odd, "text": "Tekst."},
        headers={"Accept": "application/json"},
    )
    assert save.status_code == 409 and save.json()["kind"] == "refused"
    assigned = post(
        demo.anna, section + "/assign", {"partner": demo.no, "assignee": odd, "due_date": ""}
    )
    assert assigned.status_code < 500
    assert post(demo.anna, section + "/restore", {"number": odd}).status_code == 404
    compare = demo.anna.get(section + "/history", params={"a": odd, "b": odd})
    assert compare.status_code == 200
    contact = post(demo.anna, demo.url(f"/partners/{demo.no}/contact"), {"contact": odd})
    assert contact.status_code < 500 and "Choose one of the options." in html.unescape(contact.text)
    after = row_counts(db)
    assert after["revision"] == before["revision"]  # no save, no restore
    assert partner(db, "NO").contact_user_id == contact_before  # no contact changed
