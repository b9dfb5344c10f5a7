"""The calls pages: the list and its filters, a call explained, and the admin upload."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape
from sqlalchemy import select

from proposals.calls import library
from proposals.calls.loader import parse_profile, shipped_files
from proposals.models import CallProfileRecord
from tests.conftest import csrf, make_user, post, row_counts, sign_in
from tests.test_calls_profiles import BASE, BROKEN, changed

TITLES = {
    "acf-poland-national": "Active Citizens – National Fund, sectoral projects",
    "erasmus-ka210": "Small-scale partnerships (KA210)",
    "interreg-bsr-small": "Small projects",
    "interreg-south-baltic-small": "Small-scale projects – active civil society (measure 4.1)",
    "nordic-ngo-baltic-sea": "NGO cooperation in the Baltic Sea Region",
    "eea-csf-poland": "EEA Civil Society Fund Poland – thematic projects",
    "nordic-baltic-ngo": "Nordic–Baltic NGO cooperation",
    "cbss-psf": "Project Support Facility – Baltic Sea Region cooperation projects",
    "interreg-central-baltic-small": "Small projects",
    "creative-europe-small": "European cooperation projects – small scale",
}
SHIPPED = {path.stem: parse_profile(path.read_text(encoding="utf-8")) for path in shipped_files()}
#: The calls the list shows by default: the open and expected ones.
CURRENT = {call_id for call_id, profile in SHIPPED.items() if profile.status != "closed"}
CLOSED = set(SHIPPED) - CURRENT
EVERY_STANDING = {"standing": ["open", "expected", "closed"]}
BADGE = '<span class="badge warning">unverified</span>'


def listed(html: str) -> set[str]:
    """The ids of the calls a list page (or its fragment) shows."""
    return set(re.findall(r'<h2><a href="/calls/([a-z0-9_-]+)">', html))


def link(call_id: str, title: str) -> str:
    return f'<a href="/calls/{call_id}">{escape(title)}</a>'


def store(db, text: str) -> None:  # type: ignore[no-untyped-def]
    library.store(db, text)
    db.commit()


def admin(client, db):  # type: ignore[no-untyped-def]
    user = make_user(db, email="admin@example.org", name="Ada Admin", is_admin=True)
    sign_in(client, "admin@example.org")
    return user


def upload(client, text: str, name: str = "call.yaml", **kwargs):  # type: ignore[no-untyped-def]
    """Send a profile file as the admin page's file field does (multipart)."""
    return client.post(
        "/admin/calls",
        data={"csrf_token": csrf(client, "/admin/calls")},
        files={
            "file": (name, text.encode("utf-8") if isinstance(text, str) else text, "text/yaml")
        },
        **kwargs,
    )


def paste(client, text: str, **kwargs):  # type: ignore[no-untyped-def]
    """Paste a profile into the admin page's text field (multipart, as its form is)."""
    return client.post(
        "/admin/calls",
        data={"csrf_token": csrf(client, "/admin/calls"), "content": text},
        files={"file": ("", b"", "application/octet-stream")},
        **kwargs,
    )


def stored_versions(db, call_id: str) -> list[int]:  # type: ignore[no-untyped-def]
    db.expire_all()
    return list(
        db.scalars(
            select(CallProfileRecord.version)
            .where(CallProfileRecord.call_id == call_id)
            .order_by(CallProfileRecord.version)
        )
    )


# --- the list of calls ------------------------------------------------------------------


def test_call_list_shows_the_open_and_expected_calls_without_signing_in(client):
    response = client.get("/calls")
    assert response.status_code == 200
    for call_id in CURRENT:
        assert link(call_id, TITLES[call_id]) in response.text
    assert listed(response.text) == CURRENT
    assert {"acf-poland-national", "nordic-ngo-baltic-sea"} == CLOSED
    assert f"{len(CURRENT)} calls (of 10)" in response.text
    assert 'name="standing" value="open" checked' in response.text
    assert 'name="standing" value="expected" checked' in response.text
    assert 'name="standing" value="closed" checked' not in response.text


def test_call_list_shows_every_call_with_its_standing_when_asked(client):
    text = client.get("/calls", params=EVERY_STANDING).text
    assert listed(text) == set(TITLES)
    for call_id, profile in SHIPPED.items():
        card = text[text.index(f'href="/calls/{call_id}"') :]
        card = card[: card.index("</article>")]
        word = "Closed" if call_id in CLOSED else "Expected"
        assert f'standing">{word}</span>' in card, call_id
        day = profile.verified_on
        assert f"<dd>{day.day} {day:%b %Y}</dd>" in card, call_id  # e.g. "4 Dec 2026"
    only_closed = client.get("/calls", params={"standing": "closed"}).text
    assert listed(only_closed) == CLOSED


def test_call_list_shows_currency_and_application_language(client):
    text = client.get("/calls", params=EVERY_STANDING).text
    nordic = text[text.index('href="/calls/nordic-ngo-baltic-sea"') :]
    nordic = nordic[: nordic.index("</article>")]
    assert "<dd>DKK</dd>" in nordic
    assert "<dd>English</dd>" in nordic
    acf = text[text.index('href="/calls/acf-poland-national"') :]
    assert "<dd>Polish</dd>" in acf[: acf.index("</article>")]


def test_call_list_filters_by_funder(client):
    response = client.get("/calls", params={"funder": "Nordic Council of Ministers"})
    assert response.status_code == 200
    assert listed(response.text) == {"nordic-baltic-ngo"}
    assert "(of 10)" in response.text
    assert '<option value="Nordic Council of Ministers" selected>' in response.text


def test_call_list_filter_by_unknown_funder_says_nothing_matches(client):
    response = client.get("/calls", params={"funder": "Nobody"})
    assert response.status_code == 200
    assert listed(response.text) == set()
    assert "No call matches these filters." in response.text


def test_call_list_filters_by_partner_country(client):
    response = client.get("/calls", params={"country": "DK"})
    assert listed(response.text) == {
        "interreg-south-baltic-small",
        "interreg-bsr-small",
        "nordic-baltic-ngo",
        "erasmus-ka210",
        "cbss-psf",
        "creative-europe-small",
    }
    assert '<option value="DK" selected>' in response.text


def test_call_list_country_filter_ignores_case(client):
    # Ukrainian partners: eligible, or additional partners on top of the minimum.
    assert listed(client.get("/calls", params={"country": "ua"}).text) == {
        "eea-csf-poland",
        "creative-europe-small",
        "cbss-psf",
        "nordic-baltic-ngo",
    }


def test_call_list_country_filter_keeps_calls_open_to_any_country(client, db):
    store(db, changed("partnership:\n  countries:\n    eligible: [PL, NO, SE]\n", ""))
    shown = listed(client.get("/calls", params={"country": "JP"}).text)
    assert shown == {"test-call"}


def test_a_call_whose_deadline_passed_is_closed_whatever_its_status(client, db):
    store(db, changed("id: test-call", "id: closed-call", changed("2099-01-31", "2020-01-31")))
    store(db, changed("id: test-call", "id: future-call"))

    default = client.get("/calls").text
    assert "closed-call" not in listed(default)
    assert "future-call" in listed(default)
    everything = client.get("/calls", params=EVERY_STANDING).text
    closed = everything[everything.index('href="/calls/closed-call"') :]
    assert 'standing">Closed</span>' in closed[: closed.index("</article>")]
    future = everything[everything.index('href="/calls/future-call"') :]
    assert 'standing">Open</span>' in future[: future.index("</article>")]

    open_only = client.get("/calls", params={"standing": "open"}).text
    assert listed(open_only) == {"future-call"}
    assert 'name="standing" value="open" checked' in open_only
    assert 'name="standing" value="expected" checked' not in open_only
    # Unknown standings are ignored, not an error.
    assert listed(client.get("/calls", params={"standing": "<x>"}).text) == listed(default)


def test_htmx_filter_request_gets_only_the_results_fragment(client):
    response = client.get("/calls", params={"country": "DK"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "<html" not in response.text
    assert "<form" not in response.text
    assert len(listed(response.text)) == 6
    assert "HX-Request" in response.headers["Vary"]


def test_htmx_history_restore_gets_the_whole_page(client):
    response = client.get(
        "/calls", headers={"HX-Request": "true", "HX-History-Restore-Request": "true"}
    )
    assert "<html" in response.text


# --- a call's page -----------------------------------------------------------------------


@pytest.mark.parametrize("call_id", sorted(TITLES))
def test_call_page_shows_sections_with_formatted_limits_and_sources(client, call_id):
    profile = SHIPPED[call_id]
    response = client.get(f"/calls/{call_id}")
    assert response.status_code == 200
    text = response.text
    assert f"<h1>{escape(TITLES[call_id])}</h1>" in text
    for section in profile.sections:
        assert f'<th scope="row">{escape(section.title.get("en"))}</th>' in text
        assert section.char_limit is not None
        assert f'<td class="num">{section.char_limit:,}' in text  # 1500 as "1,500"
    for source in profile.sources.values():
        if source.url:
            assert f'<a href="{escape(source.url)}" rel="noopener nofollow">' in text
        assert escape(source.title) in text
    assert f"<dd>{profile.currency}</dd>" in text
    assert f"{call_id} v{profile.version}" in text


@pytest.mark.parametrize(
    ("call_id", "budget", "partnership"),
    [
        (
            "interreg-south-baltic-small",
            [
                "The grant may cover at most 80.00% of the eligible costs.",
                "A grant of at most €200,000.00.",
                "Office and administration: at most 15.00% of Staff costs.",
            ],
            [
                "At least 2 partners, the lead partner included.",
                "Partners from: Germany, Denmark, Lithuania, Poland, Sweden.",
                "Partners from at least 2 different countries.",
            ],
        ),
        (
            "erasmus-ka210",
            ["The grant is a lump sum of €30,000.00 / €60,000.00."],
            ["At least 2 partners, the lead partner included."],
        ),
        (
            "nordic-ngo-baltic-sea",
            ["A grant of at most DKK500,000.00."],
            [
                "At least 1 partner from the Nordic countries "
                "(Denmark, Finland, Iceland, Norway, Sweden, Faroe Islands, Greenland, "
                "Åland Islands).",
                "At least 1 partner from the Baltic states or Poland "
                "(Estonia, Latvia, Lithuania, Poland).",
            ],
        ),
        (
            "acf-poland-national",
            ["A grant from €25,000.00 to €125,000.00.", "€10.00 per hour"],
            [
                "Lead partner from: Poland.",
                "A partner from a donor state (Norway, Iceland, Liechtenstein) is encouraged.",
            ],
        ),
        (
            "interreg-bsr-small",
            [
                "own contribution (cash and counted in-kind) is at least 20.00% of its costs",
                "The grant may cover at most 80.00% of the eligible costs.",
            ],
            ["At least 3 partners, the lead partner included."],
        ),
    ],
)
def test_call_page_explains_budget_and_partnership_rules(client, call_id, budget, partnership):
    text = client.get(f"/calls/{call_id}").text
    budget_part = text[
        text.index("<h2>Budget rules</h2>") : text.index("<h2>Partnership rules</h2>")
    ]
    partnership_part = text[text.index("<h2>Partnership rules</h2>") :]
    for sentence in budget:
        assert escape(sentence) in budget_part
    for sentence in partnership:
        assert escape(sentence) in partnership_part


def test_call_page_says_at_least_one_partner_in_the_singular(client):
    text = client.get("/calls/acf-poland-national").text
    assert "At least 1 partners" not in text
    assert "At least 1 partner, the lead partner included." in text


@pytest.mark.parametrize("call_id", sorted(TITLES))
def test_shipped_call_page_marks_assumed_rules_unverified(client, call_id):
    assert BADGE in client.get(f"/calls/{call_id}").text


def test_unverified_badge_appears_exactly_where_a_rule_is_an_assumption(client, db):
    store(db, BASE)
    assert BADGE not in client.get("/calls/test-call").text

    assumed = changed("    source: guide\n", "    source: guide\n    assumption: true\n")
    store(db, changed("version: 1", "version: 2", assumed))
    text = client.get("/calls/test-call").text
    assert text.count(BADGE) == 1
    rule = text[text.index("at most 80.00%") :]
    assert BADGE in rule[: rule.index("</li>")]


def test_rule_shows_its_source_link_and_note(client, db):
    store(db, changed("    source: guide\n", "    source: guide\n    note: Read on page 12.\n"))
    text = client.get("/calls/test-call").text
    rule = text[text.index("at most 80.00%") :]
    rule = rule[: rule.index("</li>")]
    assert '<a href="https://example.org/guide" rel="noopener nofollow">The test guide</a>' in rule
    assert "Read on page 12." in rule


def test_call_page_in_polish_by_accept_language(client):
    response = client.get("/calls/acf-poland-national", headers={"Accept-Language": "pl"})
    assert response.status_code == 200
    assert '<th scope="row">Streszczenie projektu</th>' in response.text
    assert "Aktywni Obywatele – Fundusz Krajowy, projekty sektorowe" in response.text
    assert "Project summary" not in response.text
    assert "1500" in response.text.replace("\xa0", "").replace(" ", "")


def test_call_page_in_polish_by_language_cookie(client):
    client.cookies.set("engage_lang", "pl")
    text = client.get("/calls/acf-poland-national", headers={"Accept-Language": "en"}).text
    assert '<th scope="row">Streszczenie projektu</th>' in text
    assert '<th scope="row">Project summary</th>' not in text


def test_english_call_page_of_polish_call_has_english_titles(client):
    text = client.get("/calls/acf-poland-national", headers={"Accept-Language": "en"}).text
    assert '<th scope="row">Project summary</th>' in text
    assert "Streszczenie projektu" not in text


def test_unknown_call_is_a_404_page(client):
    response = client.get("/calls/nope")
    assert response.status_code == 404
    assert "<html" in response.text


def test_unknown_version_of_a_call_is_a_404(client):
    assert client.get("/calls/erasmus-ka210", params={"version": "99"}).status_code == 404


def test_non_numeric_version_shows_the_latest_not_an_error(client):
    response = client.get("/calls/erasmus-ka210", params={"version": "abc"})
    assert response.status_code == 200
    assert "erasmus-ka210 v2" in response.text


@pytest.mark.parametrize(
    "version",
    ["²", "٣", "3000000000", "99999999999999999999"],
    ids=["sup2", "arabic3", "beyond-int32", "beyond-int64"],
)
def test_odd_version_numbers_are_not_a_server_error(client, version):
    response = client.get("/calls/erasmus-ka210", params={"version": version})
    assert response.status_code in (200, 404)


def test_older_version_stays_viewable_and_pages_link_every_version(client, db):
    store(db, BASE)
    store(db, changed("version: 1", "version: 2", changed("max: 80", "max: 70")))
    latest = client.get("/calls/test-call").text
    assert "at most 70.00%" in latest and "test-call v2" in latest
    assert '<a href="/calls/test-call?version=1">v1</a>' in latest
    assert '<a href="/calls/test-call?version=2" aria-current="page">v2</a>' in latest
    old = client.get("/calls/test-call", params={"version": "1"}).text
    assert "at most 80.00%" in old and "test-call v1" in old
    assert "at most 70.00%" not in old


# --- uploading profiles ----------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get("/admin/calls", follow_redirects=False)
    assert response.status_code == 303
    assert "/signin?next=" in response.headers["location"]
    assert "admin%2Fcalls" in response.headers["location"]


def test_anonymous_upload_stores_nothing(client, db):
    before = row_counts(db)
    response = post(client, "/admin/calls", {"content": BASE}, follow_redirects=False)
    assert response.status_code == 303
    assert "/signin" in response.headers["location"]
    assert row_counts(db) == before


def test_non_admin_gets_403_and_nothing_is_stored(client, db):
    make_user(db)
    sign_in(client)
    assert client.get("/admin/calls").status_code == 403
    before = row_counts(db)
    response = post(client, "/admin/calls", {"content": BASE})
    assert response.status_code == 403
    response = client.post(
        "/admin/calls",
        data={"csrf_token": csrf(client)},
        files={"file": ("call.yaml", BASE.encode(), "text/yaml")},
    )
    assert response.status_code == 403
    assert row_counts(db) == before
    assert stored_versions(db, "test-call") == []


def test_admin_page_lists_stored_calls(client, db):
    admin(client, db)
    response = client.get("/admin/calls")
    assert response.status_code == 200
    for call_id, profile in SHIPPED.items():
        assert f"{call_id} v{profile.version}" in response.text


def test_pasted_broken_profile_lists_each_problem_with_its_field_and_keeps_the_text(client, db):
    admin(client, db)
    text = changed("max: 80", "max: 120", BROKEN["missing-currency"][0])
    text = changed("title: A test call", "title: Calls & <grants>", text)
    before = row_counts(db)
    response = paste(client, text)
    assert response.status_code == 422
    assert "The profile has 2 problems" in response.text
    assert "<td><code>currency</code></td><td>is required</td>" in response.text
    assert "<td><code>budget.grant_rate.max</code></td><td>must be at most 100" in response.text
    assert f">{escape(text)}</textarea>" in response.text
    assert row_counts(db) == before


def test_pasted_profile_in_a_plain_form_is_checked_too(client, db):
    admin(client, db)
    response = post(client, "/admin/calls", {"content": BROKEN["duplicate-section"][0]})
    assert response.status_code == 422
    assert "<code>sections[1].key</code>" in response.text
    assert "duplicate section key" in response.text


@pytest.mark.parametrize("name", BROKEN)
def test_each_broken_profile_is_refused_naming_its_field(client, db, name):
    admin(client, db)
    text, path, reason = BROKEN[name]
    response = upload(client, text)
    assert response.status_code == 422
    assert "The profile has 1 problem<" in response.text
    assert f"<td><code>{escape(path)}</code></td>" in response.text
    assert escape(reason) in response.text
    assert stored_versions(db, "test-call") == []


def test_empty_submission_asks_for_a_file_or_text(client, db):
    admin(client, db)
    response = paste(client, "   \n")
    assert response.status_code == 422
    assert "Choose a profile file or paste its text." in response.text


def test_valid_uploaded_file_is_stored_and_redirects_to_its_page(client, db):
    user = admin(client, db)
    response = upload(client, BASE, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/calls/test-call?version=1"
    record = db.scalar(select(CallProfileRecord).where(CallProfileRecord.call_id == "test-call"))
    assert record is not None
    assert (record.version, record.origin, record.uploaded_by_id) == (1, "uploaded", user.id)
    assert record.content == BASE
    page = client.get(response.headers["location"])
    assert page.status_code == 200
    assert "Version 1 of test-call is stored." in page.text
    assert "<h1>A test call</h1>" in page.text
    assert "test-call" in listed(client.get("/calls").text)


def test_uploading_the_same_profile_again_changes_nothing(client, db):
    admin(client, db)
    upload(client, BASE)
    response = upload(client, BASE)
    assert response.status_code == 200
    assert "This version is already stored; nothing changed." in response.text
    assert stored_versions(db, "test-call") == [1]


def test_changed_profile_with_the_same_version_is_refused_naming_version(client, db):
    admin(client, db)
    upload(client, BASE)
    response = upload(client, changed("max: 80", "max: 70"))
    assert response.status_code == 422
    assert "<td><code>version</code></td>" in response.text
    assert "already exists with other content" in response.text
    assert stored_versions(db, "test-call") == [1]
    assert "at most 80.00%" in client.get("/calls/test-call").text


def confirm(client, text: str, digest: str, **kwargs):  # type: ignore[no-untyped-def]
    """Store ``text`` after its diff was shown (the form sends the shown text's digest)."""
    return client.post(
        "/admin/calls",
        data={"csrf_token": csrf(client, "/admin/calls"), "content": text, "confirm": digest},
        files={"file": ("", b"", "application/octet-stream")},
        **kwargs,
    )


def shown_digest(html: str) -> str:
    found = re.search(r'name="confirm" value="([0-9a-f]{64})"', html)
    assert found, "no confirmation field"
    return found.group(1)


def test_changed_profile_with_a_higher_version_shows_the_diff_before_it_is_stored(client, db):
    admin(client, db)
    upload(client, BASE)
    second = changed("version: 1", "version: 2", changed("max: 80", "max: 70"))
    second = changed("    eligible: [PL, NO, SE]", "    eligible: [PL, NO, LT]", second)
    response = upload(client, second)
    assert response.status_code == 200
    assert "What changes against version 1" in response.text
    diff = response.text[response.text.index('id="profile-diff"') :]
    diff = diff[: diff.index("</table>")]
    assert "<code>budget.grant_rate.max</code></td><td>80</td><td>70</td>" in diff
    assert "<code>partnership.countries.eligible</code></td><td>− SE</td><td>+ LT</td>" in diff
    assert "Rules and figures" in diff
    assert stored_versions(db, "test-call") == [1]  # nothing stored before the admin agrees

    response = confirm(client, second, shown_digest(response.text), follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/calls/test-call?version=2"
    assert stored_versions(db, "test-call") == [1, 2]


def test_a_profile_edited_after_its_diff_was_shown_is_shown_again_not_stored(client, db):
    admin(client, db)
    upload(client, BASE)
    second = changed("version: 1", "version: 2", changed("max: 80", "max: 70"))
    digest = shown_digest(upload(client, second).text)
    edited = changed("max: 70", "max: 60", second)
    response = confirm(client, edited, digest)
    assert response.status_code == 200
    assert "<td>80</td><td>60</td>" in response.text
    assert stored_versions(db, "test-call") == [1]
    # A forged digest is no confirmation either.
    assert confirm(client, second, "0" * 64).status_code == 200
    assert stored_versions(db, "test-call") == [1]


def test_uploaded_file_that_is_not_utf8_is_refused(client, db):
    admin(client, db)
    response = upload(client, changed("Test Funder", "Fundacja Żagiel").encode("iso-8859-2"))
    assert response.status_code == 422
    assert "The file is not UTF-8 text." in response.text
    assert stored_versions(db, "test-call") == []


def test_uploaded_file_over_512_kb_is_refused(client, db):
    admin(client, db)
    response = upload(client, BASE + "# " + "x" * 600_000 + "\n")
    assert response.status_code == 422
    assert "larger than 524288 bytes" in response.text
    assert stored_versions(db, "test-call") == []


def test_uploaded_file_with_an_impossible_date_is_refused_not_a_server_error(client, db):
    admin(client, db)
    response = upload(client, changed("date: 2099-01-31", "date: 2099-02-31"))
    assert response.status_code == 422
    assert "<code>" in response.text
    assert stored_versions(db, "test-call") == []


def test_uploaded_profile_with_a_version_too_big_to_store_is_refused(client, db):
    admin(client, db)
    response = upload(client, changed("version: 1", "version: 99999999999999999999"))
    assert response.status_code == 422
    assert "<td><code>version</code></td>" in response.text


def test_uploaded_profile_with_a_ten_digit_version_is_stored_or_refused_not_an_error(client, db):
    admin(client, db)
    response = upload(client, changed("version: 1", "version: 3000000000"))
    if response.status_code == 422:
        assert "<td><code>version</code></td>" in response.text
    else:
        assert response.status_code == 200
        assert "test-call v3000000000" in response.text
        assert stored_versions(db, "test-call") == [3000000000]


def test_html_in_an_uploaded_profile_is_shown_escaped(client, db):
    admin(client, db)
    evil = changed("title: A test call", "title: \"<script>alert('call')</script>\"")
    evil = changed("    title: Summary", "    title: <img src=x onerror=alert(1)>", evil)
    response = upload(client, evil)
    assert response.status_code == 200
    for path in ("/calls/test-call", "/calls", "/admin/calls"):
        text = client.get(path).text
        assert "<script>alert(" not in text, path
        assert "&lt;script&gt;alert(" in text, path
    page = client.get("/calls/test-call").text
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_a_source_link_that_is_not_a_web_address_is_refused(client, db):
    admin(client, db)
    evil = changed("url: https://example.org/guide", 'url: "javascript:alert(1)"')
    response = upload(client, evil)
    assert response.status_code == 422
    assert "sources.guide.url" in response.text
    assert "a web address starts with https://" in response.text
