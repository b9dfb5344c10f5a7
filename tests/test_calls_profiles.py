"""Call profiles as data: the shipped YAML files, the validation of broken ones, the library."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from proposals.calls import library
from proposals.calls.loader import MAX_PROFILE_BYTES, ProfileError, parse_profile, shipped_files
from proposals.models import CallProfileRecord

SHIPPED_IDS = {
    "acf-poland-national",
    "erasmus-ka210",
    "interreg-bsr-small",
    "interreg-south-baltic-small",
    "nordic-ngo-baltic-sea",
    "eea-csf-poland",
    "nordic-baltic-ngo",
    "cbss-psf",
    "interreg-central-baltic-small",
    "creative-europe-small",
}

#: A small valid profile; every broken profile below changes one thing in it.
BASE = """\
id: test-call
version: 1
funder: Test Funder
programme: Test Programme
title: A test call
languages: [en]
currency: EUR
sources:
  guide:
    title: The test guide
    url: https://example.org/guide
deadline:
  date: 2099-01-31
sections:
  - key: summary
    title: Summary
    char_limit: 1000
  - key: activities
    title: Activities
    char_limit: 2000
budget:
  categories:
    - {key: staff, title: Staff}
    - {key: travel, title: Travel}
    - {key: office, title: Office, kind: flat_rate}
  flat_rates:
    - {category: office, rate: 15, base: [staff]}
  grant_rate:
    max: 80
    source: guide
partnership:
  countries:
    eligible: [PL, NO, SE]
"""


def changed(old: str, new: str, text: str = BASE) -> str:
    """``text`` with its one occurrence of ``old`` replaced (so a typo here cannot pass)."""
    assert text.count(old) == 1, f"{old!r} must occur once in the profile"
    return text.replace(old, new)


#: name -> (profile text, the field path of its one problem, words the reason contains)
BROKEN: dict[str, tuple[str, str, str]] = {
    "missing-currency": (changed("currency: EUR\n", ""), "currency", "is required"),
    "grant-rate-120": (changed("max: 80", "max: 120"), "budget.grant_rate.max", "at most 100"),
    "duplicate-section": (
        changed("key: activities", "key: summary"),
        "sections[1].key",
        "duplicate section key",
    ),
    "flat-rate-unknown-base": (
        changed("base: [staff]", "base: [staff, catering]"),
        "budget.flat_rates[0].base[1]",
        "unknown cost category 'catering'",
    ),
    "negative-char-limit": (
        changed("char_limit: 1000", "char_limit: -5"),
        "sections[0].char_limit",
        "greater than 0",
    ),
    "deadline-not-a-date": (
        changed("date: 2099-01-31", "date: next spring"),
        "deadline.date",
        "must be a date",
    ),
    "unknown-field": (
        changed("currency: EUR\n", "currency: EUR\nco_financing: 20\n"),
        "co_financing",
        "is not a known field",
    ),
    "closed-without-dates": (
        changed("currency: EUR\n", "currency: EUR\nstatus: closed\n"),
        "status",
        "a closed call needs the date it closed",
    ),
}


def only_problem(text: str | bytes):  # type: ignore[no-untyped-def]
    """The single problem ``parse_profile`` reports for ``text``."""
    with pytest.raises(ProfileError) as caught:
        parse_profile(text)
    problems = caught.value.problems
    assert len(problems) == 1, problems
    return problems[0]


# --- the shipped profiles ---------------------------------------------------------------


def test_ten_profiles_are_shipped():
    assert {path.stem for path in shipped_files()} == SHIPPED_IDS
    assert len(SHIPPED_IDS) >= 10


@pytest.mark.parametrize("path", shipped_files(), ids=lambda p: p.stem)
def test_shipped_profile_loads_with_id_version_currency_and_sections(path):
    profile = parse_profile(path.read_text(encoding="utf-8"))
    assert profile.id == path.stem
    assert profile.version >= 1
    assert len(profile.currency) == 3 and profile.currency.isupper()
    assert profile.sections
    assert all(section.title.get("en") for section in profile.sections)


def test_shipped_profile_ids_are_unique():
    ids = [parse_profile(p.read_text(encoding="utf-8")).id for p in shipped_files()]
    assert len(ids) == len(set(ids)) == len(SHIPPED_IDS)


def shipped(call_id: str):  # type: ignore[no-untyped-def]
    path = next(p for p in shipped_files() if p.stem == call_id)
    return parse_profile(path.read_text(encoding="utf-8"))


def test_acf_is_written_in_polish():
    profile = shipped("acf-poland-national")
    assert profile.language == "pl"
    assert profile.sections[0].title.get("pl") == "Streszczenie projektu"


def test_nordic_call_is_in_danish_kroner():
    assert shipped("nordic-ngo-baltic-sea").currency == "DKK"


def test_erasmus_pays_lump_sums_of_30000_or_60000():
    lump_sums = shipped("erasmus-ka210").budget.lump_sums
    assert lump_sums is not None
    assert lump_sums.amounts == [30000, 60000]


def test_the_base_profile_of_these_tests_is_valid():
    profile = parse_profile(BASE)
    assert (profile.id, profile.version, profile.currency) == ("test-call", 1, "EUR")


# --- broken profiles: one problem each, named by its field path -------------------------


@pytest.mark.parametrize("name", BROKEN)
def test_broken_profile_reports_exactly_one_problem_at_its_field(name):
    text, path, reason = BROKEN[name]
    problem = only_problem(text)
    assert problem.path == path
    assert reason in problem.message
    assert str(problem) == f"{path}: {problem.message}"


def test_misspelt_field_is_not_a_known_field():
    problem = only_problem(changed("currency: EUR", "currency: EUR\ncurrencey: DKK"))
    assert problem.path == "currencey"
    assert "not a known field" in problem.message


def test_misspelt_nested_field_names_its_full_path():
    problem = only_problem(changed("char_limit: 2000", "char_limt: 2000"))
    assert problem.path == "sections[1].char_limt"
    assert "not a known field" in problem.message


def test_rule_citing_an_unknown_source_is_refused():
    problem = only_problem(changed("source: guide", "source: handbook"))
    assert problem.path == "budget.grant_rate.source"
    assert "unknown source 'handbook'" in problem.message


def test_every_problem_is_listed_not_only_the_first():
    text = changed("max: 80", "max: 120", changed("currency: EUR\n", ""))
    with pytest.raises(ProfileError) as caught:
        parse_profile(text)
    assert [p.path for p in caught.value.problems] == ["currency", "budget.grant_rate.max"]


def test_yaml_syntax_error_gives_line_and_column():
    problem = only_problem(changed("languages: [en]", "languages: [en"))
    assert problem.path == ""
    assert problem.message.startswith("line 7, column 9: not valid YAML")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("date: 2099-01-31", "date: 2099-02-31"),  # a day the month does not have
        ("date: 2099-01-31", "date: 2099-13-01"),  # a month the year does not have
        ("version: 1", "version: !!int one"),
        ("max: 80", "max: !!float eighty"),
        ("date: 2099-01-31", "date: !!timestamp soon"),
        ("currency: EUR", "currency: EUR\n? [a, b]\n: c"),  # a list as a mapping key
    ],
    ids=["feb-31", "month-13", "bad-int-tag", "bad-float-tag", "bad-timestamp-tag", "list-key"],
)
def test_malformed_yaml_values_raise_profile_error_and_nothing_else(old, new):
    text = changed(old, new)
    try:
        parse_profile(text)
    except ProfileError as exc:
        assert exc.problems
    else:
        pytest.fail("a malformed profile was accepted")


def test_deeply_nested_yaml_raises_profile_error_and_nothing_else():
    text = BASE + "export: " + "[" * 20_000 + "]" * 20_000 + "\n"
    assert len(text) < MAX_PROFILE_BYTES
    try:
        parse_profile(text)
    except ProfileError as exc:
        assert exc.problems
    else:
        pytest.fail("a malformed profile was accepted")


def test_duplicate_yaml_keys_are_refused():
    problem = only_problem(changed("currency: EUR", "currency: EUR\ncurrency: DKK"))
    assert "duplicate key 'currency'" in problem.message
    assert "line 8" in problem.message


def test_duplicate_nested_yaml_keys_are_refused():
    problem = only_problem(changed("    max: 80\n", "    max: 80\n    max: 60\n"))
    assert "duplicate key 'max'" in problem.message


def test_norway_stays_the_country_code_no_not_false():
    profile = parse_profile(BASE)
    assert profile.partnership.countries.eligible == ["PL", "NO", "SE"]


def test_norway_as_a_block_list_item_and_a_mapping_key_stays_no():
    text = changed(
        "    max: 80\n",
        "    max: 80\n    by_country:\n      NO: 50\n      SE: 60\n",
        changed("eligible: [PL, NO, SE]", "eligible:\n      - NO\n      - PL"),
    )
    profile = parse_profile(text)
    assert profile.partnership.countries.eligible == ["NO", "PL"]
    assert profile.budget.grant_rate is not None
    assert profile.budget.grant_rate.by_country == {"NO": 50, "SE": 60}


def test_other_yaml_1_1_booleans_stay_strings_and_are_checked_as_countries():
    problem = only_problem(changed("eligible: [PL, NO, SE]", "eligible: [PL, ON]"))
    assert problem.path == "partnership.countries.eligible[1]"
    assert "'ON' is not an ISO 3166 country code" in problem.message


def test_real_booleans_are_still_booleans():
    text = changed("    char_limit: 2000\n", "    char_limit: 2000\n    required: false\n")
    assert parse_profile(text).sections[1].required is False


def test_lower_case_country_code_is_read_as_the_upper_case_code():
    text = changed("eligible: [PL, NO, SE]", "eligible: [pl, no, se]")
    try:
        profile = parse_profile(text)
    except ProfileError as exc:  # refusing it is as good as reading it right
        assert exc.problems[0].path.startswith("partnership.countries.eligible")
    else:
        assert profile.partnership.countries.eligible == ["PL", "NO", "SE"]


def test_non_utf8_bytes_raise_profile_error():
    problem = only_problem(changed("Test Funder", "Fundacja Żagiel").encode("iso-8859-2"))
    assert problem.path == ""


def test_non_utf8_bytes_are_reported_as_not_utf8():
    problem = only_problem(changed("Test Funder", "Fundacja Żagiel").encode("iso-8859-2"))
    assert "UTF-8" in problem.message


def test_utf8_bytes_are_read():
    profile = parse_profile(changed("Test Funder", "Fundacja Żagiel").encode("utf-8"))
    assert profile.funder == "Fundacja Żagiel"


def test_600_kb_profile_is_refused():
    text = BASE + "# " + "x" * 600_000 + "\n"
    problem = only_problem(text)
    assert "larger than 524288 bytes" in problem.message


def test_600_kb_profile_given_as_bytes_is_refused():
    problem = only_problem((BASE + "# " + "x" * 600_000 + "\n").encode("utf-8"))
    assert "larger than 524288 bytes" in problem.message


def test_600_kb_of_utf8_text_is_refused_even_with_fewer_characters():
    text = BASE + "# " + "ż" * 300_000 + "\n"  # 300,000 characters, 600,000 bytes
    assert len(text.encode("utf-8")) > 600_000 > len(text)
    problem = only_problem(text)
    assert "larger than 524288 bytes" in problem.message


def test_profile_just_under_the_limit_is_read():
    text = BASE + "#" * (MAX_PROFILE_BYTES - len(BASE) - 1) + "\n"
    assert len(text) == MAX_PROFILE_BYTES
    assert parse_profile(text).id == "test-call"


@pytest.mark.parametrize(
    "text", ["- id: test-call\n- version: 1\n", "just words\n", "42\n", ""], ids=repr
)
def test_document_that_is_not_a_mapping_is_refused(text):
    problem = only_problem(text)
    assert problem.path == ""
    assert "a profile is a YAML mapping" in problem.message


# --- the library: stored versions never change -------------------------------------------


def stored_count(db, call_id: str) -> int:  # type: ignore[no-untyped-def]
    return db.scalar(
        select(func.count())
        .select_from(CallProfileRecord)
        .where(CallProfileRecord.call_id == call_id)
    )


def test_the_shipped_profiles_are_in_the_library(db):
    assert {p.id for p in library.latest(db)} == SHIPPED_IDS


def test_storing_the_same_text_twice_is_not_new(db):
    profile, new = library.store(db, BASE)
    assert new is True and profile.id == "test-call"
    again, new_again = library.store(db, BASE)
    assert new_again is False and again.version == 1
    db.commit()
    assert stored_count(db, "test-call") == 1


def test_storing_other_text_under_the_same_version_is_refused_on_version(db):
    library.store(db, BASE)
    db.commit()
    with pytest.raises(ProfileError) as caught:
        library.store(db, changed("title: A test call", "title: A changed call"))
    problems = caught.value.problems
    assert [p.path for p in problems] == ["version"]
    assert "already exists with other content" in problems[0].message
    assert str(library.get(db, "test-call").title) == "A test call"
    assert stored_count(db, "test-call") == 1


def test_storing_a_broken_profile_stores_nothing(db):
    with pytest.raises(ProfileError):
        library.store(db, BROKEN["missing-currency"][0])
    db.commit()
    assert stored_count(db, "test-call") == 0


def test_a_new_version_keeps_the_old_one_for_proposals_that_started_on_it(db):
    library.store(db, BASE)
    second = changed("version: 1", "version: 2", changed("max: 80", "max: 70"))
    profile, new = library.store(db, second)
    assert new is True and profile.version == 2
    db.commit()

    old = library.get(db, "test-call", 1)
    assert old is not None and old.version == 1
    assert old.budget.grant_rate is not None and old.budget.grant_rate.max == 80
    newest = library.get(db, "test-call")
    assert newest is not None and newest.version == 2
    assert newest.budget.grant_rate is not None and newest.budget.grant_rate.max == 70
    assert library.get(db, "test-call", 3) is None

    latest = [p for p in library.latest(db) if p.id == "test-call"]
    assert [p.version for p in latest] == [2]
    assert len(library.latest(db)) == len(SHIPPED_IDS) + 1
    assert [r.version for r in library.versions(db, "test-call")] == [2, 1]


def test_unknown_call_is_none(db):
    assert library.get(db, "no-such-call") is None
    assert library.get(db, "acf-poland-national", 99) is None


def test_syncing_the_shipped_profiles_again_adds_nothing(db):
    assert library.sync_shipped(db) == []
    db.commit()
    assert db.scalar(select(func.count()).select_from(CallProfileRecord)) == len(SHIPPED_IDS)
