"""The rules added for current calls, checked on the shipped profiles at their boundaries:
newcomer shares, eligible regions, mixes of country groups, additional partners, review
thresholds, stages and application languages. Every finding names its rule and source."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from proposals import i18n
from proposals.calls.checks import Finding, run_checks
from proposals.calls.diff import changes
from proposals.calls.facts import PartnerFacts, ProposalFacts
from proposals.calls.loader import ProfileError, parse_profile, shipped_files
from proposals.calls.schema import CallProfile
from proposals.calls.standing import closed_reason, staleness, standing
from proposals.calls.texts import text_for
from tests.test_calls_profiles import BASE, changed

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SHIPPED = {p.stem: parse_profile(p.read_text(encoding="utf-8")) for p in shipped_files()}


@pytest.fixture(autouse=True)
def english() -> None:
    i18n.set_locale("en", "Europe/Warsaw")


def org(key: str, country: str, role: str = "partner", **facts: object) -> PartnerFacts:
    return PartnerFacts(key=key, name=f"Org {key}", country=country, role=role, **facts)  # type: ignore[arg-type]


def lead(country: str, **facts: object) -> PartnerFacts:
    return org("lead", country, "lead", **facts)


def found(call: CallProfile, check: str, *partners: PartnerFacts, **facts: object) -> list[Finding]:
    proposal = ProposalFacts(now=NOW, partners=partners, **facts)  # type: ignore[arg-type]
    return [f for f in run_checks(call, proposal) if f.check == check]


def only(findings: list[Finding]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


# --- newcomers (Interreg South Baltic: at least one third) -------------------------------

SOUTH_BALTIC = SHIPPED["interreg-south-baltic-small"]


def south_baltic(newcomers: int, others: int) -> list[PartnerFacts]:
    countries = ["PL", "DE", "DK", "LT", "SE"]
    flags = [True] * newcomers + [False] * others
    partners = [lead("PL", newcomer=flags[0])]
    partners += [
        org(f"p{i}", countries[i % 5], newcomer=flag) for i, flag in enumerate(flags[1:], 1)
    ]
    return partners


@pytest.mark.parametrize(
    ("newcomers", "others"),
    [(1, 2), (2, 4), (3, 6), (2, 3), (3, 0)],
    ids=["1-of-3", "2-of-6", "3-of-9", "2-of-5", "all-new"],
)
def test_a_third_of_newcomers_or_more_passes(newcomers, others):
    assert found(SOUTH_BALTIC, "newcomers", *south_baltic(newcomers, others)) == []


@pytest.mark.parametrize(
    ("newcomers", "others"),
    [(1, 3), (0, 2), (2, 5), (1, 4)],
    ids=["1-of-4", "0-of-2", "2-of-7", "1-of-5"],
)
def test_a_south_baltic_partnership_without_enough_newcomers_is_an_error(newcomers, others):
    finding = only(found(SOUTH_BALTIC, "newcomers", *south_baltic(newcomers, others)))
    assert finding.severity == "error"
    total = newcomers + others
    assert finding.message == (
        f"{newcomers} of {total} partners are new to the programme; "
        "the call asks for at least 33.33%."
    )
    assert finding.rule == "At least 33.33% of the partners are new to the programme."
    assert finding.source is not None and "Bidragsportalen" in finding.source.title
    assert finding.target.area == "partners"


def test_partners_not_marked_as_newcomers_or_not_are_a_warning_naming_them():
    partners = [lead("PL", newcomer=False), org("de", "DE"), org("dk", "DK", newcomer=False)]
    finding = only(found(SOUTH_BALTIC, "newcomers", *partners))
    assert finding.severity == "warning"
    assert "Org de" in finding.message and "Org dk" not in finding.message


def test_associated_partners_do_not_count_towards_the_newcomer_share():
    partners = [lead("PL", newcomer=True), org("de", "DE", newcomer=False)]
    partners.append(org("dk", "DK", "associated", newcomer=False))
    assert found(SOUTH_BALTIC, "newcomers", *partners) == []  # 1 of 2 counted


# --- regions (Interreg BSR: only northern Germany) ---------------------------------------

BSR = SHIPPED["interreg-bsr-small"]


def bsr(german_region: str) -> list[PartnerFacts]:
    return [lead("PL"), org("lt", "LT"), org("de", "DE", region=german_region)]


@pytest.mark.parametrize("region", ["DEF", "DEF03", "DE8", "DE30", "DE9", "de6"])
def test_a_bsr_partner_from_northern_germany_passes(region):
    assert found(BSR, "regions", *bsr(region)) == []


@pytest.mark.parametrize("region", ["DE2", "DE21", "DE1", "DEA", "DE7"], ids=str)
def test_a_bsr_partner_from_southern_germany_is_an_error_naming_rule_and_source(region):
    finding = only(found(BSR, "regions", *bsr(region)))
    assert finding.severity == "error"
    assert finding.message == (
        f"Org de is in the region {region}, outside the call's area in Germany."
    )
    assert finding.rule.startswith("Eligible area: Germany: only the regions DE3, DE4,")
    assert finding.source is not None and "northern Germany" in finding.source.title
    assert finding.assumption is True  # the list of Länder is marked as one
    assert (finding.target.area, finding.target.key) == ("partners", "de")


def test_a_german_partner_without_a_region_is_asked_for_it():
    finding = only(found(BSR, "regions", *bsr("")))
    assert finding.severity == "warning"
    assert "say which region it is in" in finding.message


def test_regions_only_restrict_the_countries_they_name():
    partners = [lead("PL", region="PL63"), org("lt", "LT"), org("se", "SE", region="SE1")]
    assert found(BSR, "regions", *partners) == []


# --- country mixes and the lead (Nordic-Baltic NGO programme) ----------------------------

NORDIC_BALTIC = SHIPPED["nordic-baltic-ngo"]


@pytest.mark.parametrize(
    "countries",
    [("EE", "FI", "SE"), ("LT", "LV", "NO"), ("LV", "EE", "LT", "DK"), ("EE", "IS", "DK", "FI")],
    ids=["1B+2N", "2B+1N", "3B+1N", "1B+3N"],
)
def test_two_nordic_and_one_baltic_or_the_other_way_round_passes(countries):
    partners = [lead(countries[0])] + [org(f"p{i}", c) for i, c in enumerate(countries[1:])]
    assert found(NORDIC_BALTIC, "composition", *partners) == []
    assert found(NORDIC_BALTIC, "lead_country", *partners) == []


@pytest.mark.parametrize(
    "countries",
    [("EE", "FI", "FI"), ("EE", "EE", "FI"), ("EE", "LV", "LV"), ("LT", "SE", "SE", "SE")],
    ids=["1B+1N-3orgs", "1B+1N-lead-twice", "2B-only", "1B+1N-4orgs"],
)
def test_a_consortium_outside_both_mixes_is_an_error(countries):
    partners = [lead(countries[0])] + [org(f"p{i}", c) for i, c in enumerate(countries[1:])]
    finding = only(found(NORDIC_BALTIC, "composition", *partners))
    assert finding.severity == "error"
    assert finding.message.endswith(": none of the mixes the call allows.")
    assert finding.message.startswith("The partners come from ")
    assert finding.rule == (
        "Partners from at least one of these mixes of countries: "
        "2 of the Nordic countries + 1 of the Baltic states "
        "or 1 of the Nordic countries + 2 of the Baltic states."
    )
    assert finding.source is not None and "Lithuania" in finding.source.title


def test_a_nordic_baltic_consortium_led_from_poland_is_an_error_naming_rule_and_source():
    partners = [lead("PL"), org("ee", "EE"), org("fi", "FI"), org("se", "SE")]
    finding = only(found(NORDIC_BALTIC, "lead_country", *partners))
    assert finding.severity == "error"
    assert finding.message == (
        "The lead partner Org lead is in Poland; the lead must be from Estonia, Latvia, Lithuania."
    )
    assert finding.rule == "Lead partner from: Estonia, Latvia, Lithuania."
    assert finding.source is not None and finding.source.url == "https://ncmgrants.org/guidelines"
    # Poland is no eligible country of this programme either.
    assert only(found(NORDIC_BALTIC, "eligible_countries", *partners)).target.key == "lead"


def test_additional_ukrainian_partners_are_welcome_but_count_towards_nothing():
    two = [lead("EE"), org("fi", "FI")]
    with_ukraine = [*two, org("ua", "UA")]
    assert found(NORDIC_BALTIC, "eligible_countries", *with_ukraine) == []
    count = only(found(NORDIC_BALTIC, "partner_count", *with_ukraine))
    assert "has 2 partners" in count.message
    assert only(found(NORDIC_BALTIC, "distinct_countries", *with_ukraine))
    assert only(found(NORDIC_BALTIC, "composition", *with_ukraine))
    complete = [*two, org("se", "SE"), org("ua", "UA")]
    assert found(NORDIC_BALTIC, "partner_count", *complete) == []
    assert found(NORDIC_BALTIC, "composition", *complete) == []


def test_a_ukrainian_lead_is_not_an_additional_partner():
    partners = [lead("UA"), org("ee", "EE"), org("fi", "FI"), org("se", "SE")]
    assert only(found(NORDIC_BALTIC, "lead_country", *partners))
    assert only(found(NORDIC_BALTIC, "eligible_countries", *partners))


# --- review thresholds (Erasmus+ KA210: 60 in all, half of each criterion) ---------------

ERASMUS = SHIPPED["erasmus-ka210"]


def scores(relevance: str, design: str, partnership: str, impact: str) -> dict[str, Decimal]:
    values = (relevance, design, partnership, impact)
    return dict(
        zip(("relevance", "design", "partnership", "impact"), map(Decimal, values), strict=True)
    )


def test_a_review_total_of_60_passes():
    assert found(ERASMUS, "review_thresholds", review_scores=scores("15", "15", "15", "15")) == []


def test_a_review_total_under_the_calls_threshold_is_a_warning_naming_rule_and_source():
    finding = only(
        found(ERASMUS, "review_thresholds", review_scores=scores("15", "15", "14.5", "15"))
    )
    assert finding.severity == "warning"
    assert finding.message == ("The review gave 59.5 points in all; the call needs at least 60.")
    assert finding.rule == "At least 60 of the 100 points in all."
    assert finding.source is not None and "Growth Projects" in finding.source.title


def test_a_criterion_under_its_own_threshold_is_a_warning_even_with_a_good_total():
    finding = only(
        found(ERASMUS, "review_thresholds", review_scores=scores("14", "30", "20", "20"))
    )
    assert finding.message == (
        "The review gave “Relevance of the project” 14 points; the call needs at least 15."
    )
    assert finding.rule == "up to 30 points, at least 15 needed"


def test_a_partly_scored_review_gives_no_total_finding():
    partial = {"relevance": Decimal(20), "design": Decimal(20)}
    assert found(ERASMUS, "review_thresholds", review_scores=partial) == []


def test_a_call_without_a_total_threshold_checks_only_the_criteria():
    acf = SHIPPED["acf-poland-national"]
    low = {c.key: Decimal(1) for c in acf.award_criteria}
    assert found(acf, "review_thresholds", review_scores=low) == []


# --- languages ----------------------------------------------------------------------------


def test_erasmus_takes_applications_in_any_official_language_english_first():
    assert ERASMUS.language == "en"
    assert {"pl", "lt", "no", "de", "et", "lv"} <= set(ERASMUS.languages)
    assert found(ERASMUS, "application_language", language="lt") == []
    finding = only(found(ERASMUS, "application_language", language="ru"))
    assert (
        finding.message == "The application is written in Russian, which this call does not accept."
    )
    assert "Lithuanian" in finding.rule


def test_a_polish_call_refuses_an_english_application():
    eea = SHIPPED["eea-csf-poland"]
    assert eea.languages == ["pl"]
    assert only(found(eea, "application_language", language="en")).severity == "error"


# --- stages -------------------------------------------------------------------------------

STAGED = changed(
    "deadline:\n",
    """stages:
  - key: outline
    title: {en: Outline, pl: Zarys}
    sections: [summary]
    deadline: {date: 2026-12-10, time: "12:00", timezone: Europe/Warsaw}
  - key: full
    title: {en: Full application, pl: Pełny wniosek}
    sections: [activities]
    deadline: {date: 2027-03-01, time: "12:00", timezone: Europe/Warsaw}
deadline:
""",
)


def test_a_two_stage_call_names_its_stages_and_their_sections():
    call = parse_profile(STAGED)
    assert [s.key for s in call.stages] == ["outline", "full"]
    assert call.stage_of("activities") is not None and call.stage_of("activities").key == "full"
    eea = SHIPPED["eea-csf-poland"]
    assert [s.key for s in eea.stages] == ["outline", "full"]
    assert set(eea.stages[0].sections) | set(eea.stages[1].sections) == {
        s.key for s in eea.sections
    }


@pytest.mark.parametrize(
    ("now", "severity", "words"),
    [
        (datetime(2026, 12, 3, 11, 0, tzinfo=UTC), "warning", "“Outline” is close"),
        (datetime(2026, 12, 2, 10, 0, tzinfo=UTC), None, ""),
        (datetime(2027, 2, 25, 12, 0, tzinfo=UTC), "warning", "“Full application” is close"),
        (
            datetime(2027, 3, 1, 11, 1, tzinfo=UTC),
            "error",
            "last stage, “Full application”, passed",
        ),
    ],
    ids=["outline-in-7-days", "outline-in-8-days", "full-close", "all-passed"],
)
def test_stage_deadlines_at_their_boundaries(now, severity, words):
    call = parse_profile(STAGED)
    result = [f for f in run_checks(call, ProposalFacts(now=now)) if f.check == "stage_deadlines"]
    if severity is None:
        assert result == []
    else:
        assert only(result).severity == severity
        assert words in result[0].message


@pytest.mark.parametrize(
    ("old", "new", "path", "words"),
    [
        (
            "sections: [activities]",
            "sections: [activities, summary]",
            "stages[1].sections[1]",
            "in two stages",
        ),
        (
            "sections: [activities]",
            "sections: [budget]",
            "stages[1].sections[0]",
            "unknown section 'budget'",
        ),
    ],
)
def test_stages_must_name_known_sections_once(old, new, path, words):
    with pytest.raises(ProfileError) as caught:
        parse_profile(changed(old, new, STAGED))
    problems = caught.value.problems
    assert len(problems) == 1 and problems[0].path == path and words in problems[0].message


# --- the schema refuses rules it cannot apply -------------------------------------------

NORDIC_GROUP = "groups: {nordic: {name: N, countries: [NO]}}"


@pytest.mark.parametrize(
    ("addition", "path", "words"),
    [
        ("  newcomers: {min_share: 0}\n", "partnership.newcomers.min_share", "greater than 0"),
        ("  newcomers: {min_share: 101}\n", "partnership.newcomers.min_share", "at most 100"),
        ("  regions: {eligible: {DE: [DEF]}}\n", "partnership.regions.eligible.DE", "not among"),
        (
            "  regions: {eligible: {PL: [DEF]}}\n",
            "partnership.regions.eligible.PL",
            "not a region of PL",
        ),
        (
            "  regions: {eligible: {PL: [Pomerania]}}\n",
            "partnership.regions.eligible.PL[0]",
            "not a NUTS",
        ),
        (
            f"  composition: {{{NORDIC_GROUP}, options: [{{baltic: 1}}]}}\n",
            "partnership.composition.options[0]",
            "unknown group 'baltic'",
        ),
        (
            f"  composition: {{{NORDIC_GROUP}, options: [{{nordic: 0}}]}}\n",
            "partnership.composition.options[0]",
            "asks for nobody",
        ),
    ],
)
def test_a_partnership_rule_that_cannot_be_applied_is_refused(addition, path, words):
    text = changed("partnership:\n", "partnership:\n" + addition)
    with pytest.raises(ProfileError) as caught:
        parse_profile(text)
    problems = caught.value.problems
    assert len(problems) == 1, problems
    assert problems[0].path == path and words in problems[0].message


def test_a_review_threshold_above_the_points_there_are_is_refused():
    text = changed("budget:\n", "review: {total_min: 101}\nbudget:\n", SHIPPED_ERASMUS_TEXT)
    with pytest.raises(ProfileError) as caught:
        parse_profile(text)
    assert [str(p) for p in caught.value.problems] == [
        "review.total_min: is above the 100 points the award criteria give in all"
    ]


SHIPPED_ERASMUS_TEXT = changed(
    "review:\n  total_min: 60\n  source: criteria\n"
    "  note: At least 60 of 100 points in all, and at least half the points of each criterion.\n",
    "",
    next(p for p in shipped_files() if p.stem == "erasmus-ka210").read_text(encoding="utf-8"),
)


def test_a_closed_call_needs_its_closing_date_and_its_dates_in_order():
    with pytest.raises(ProfileError) as caught:
        parse_profile(changed("currency: EUR\n", "currency: EUR\nstatus: closed\n"))
    assert [str(p) for p in caught.value.problems] == [
        "status: a closed call needs the date it closed: give dates.closes"
    ]
    with pytest.raises(ProfileError) as caught:
        parse_profile(
            changed(
                "currency: EUR\n", "currency: EUR\ndates: {opens: 2026-05-01, closes: 2026-04-01}\n"
            )
        )
    assert [str(p) for p in caught.value.problems] == ["dates.opens: is after dates.closes"]


# --- standing, staleness and the shipped profiles ----------------------------------------


def test_every_shipped_profile_says_its_standing_and_when_it_was_checked():
    assert len(SHIPPED) >= 10
    for call_id, call in SHIPPED.items():
        assert call.verified_on == date(2026, 12, 4), call_id
        assert call.checked, call_id
        assert call.status in ("open", "expected", "closed")
        if call.status == "closed":
            assert call.dates is not None and call.dates.closes is not None
        assert not staleness(call, NOW), call_id


def test_every_figure_of_a_shipped_profile_has_a_source_or_is_an_assumption():
    for call_id, call in SHIPPED.items():
        rules = [
            call.budget.grant,
            call.budget.grant_rate,
            call.budget.own_contribution,
            call.partnership.partners,
            call.partnership.countries,
            call.partnership.newcomers,
            call.partnership.regions,
            call.partnership.composition,
            call.duration,
            call.deadline,
            call.review,
            *call.budget.flat_rates,
            *call.award_criteria,
        ]
        for rule in rules:
            if rule is not None:
                assert rule.source or rule.assumption, (call_id, rule)


def test_closed_and_past_calls_are_closed_with_the_reason():
    acf = SHIPPED["acf-poland-national"]
    assert standing(acf, NOW) == "closed"
    assert closed_reason(acf, NOW) == (
        "This call closed on 30 April 2024 and takes no new applications."
    )
    assert standing(SHIPPED["eea-csf-poland"], NOW) == "expected"
    assert closed_reason(SHIPPED["eea-csf-poland"], NOW) is None
    cbss = SHIPPED["cbss-psf"]
    after = datetime(2027, 4, 1, tzinfo=UTC)
    assert standing(cbss, after) == "closed"
    assert closed_reason(cbss, after) == (
        "The deadline of this call passed on 31 March 2027; it takes no new applications."
    )
    stale = staleness(cbss, after)
    assert stale.reasons == (
        "Its deadline passed on 31 March 2027, but the profile does not say it is closed.",
    )


def test_a_profile_checked_more_than_six_months_ago_is_stale():
    call = SHIPPED["eea-csf-poland"]  # no deadline to pass meanwhile
    assert not staleness(call, datetime(2027, 6, 4, tzinfo=UTC))
    later = staleness(call, datetime(2027, 6, 6, tzinfo=UTC))
    assert later.reasons == ("Verified on 4 December 2026, more than six months ago.",)
    unverified = parse_profile(BASE)
    assert staleness(unverified, NOW).reasons == ("Never verified against its sources.",)


def test_the_old_programmes_are_replaced_by_their_successors():
    acf, eea = SHIPPED["acf-poland-national"], SHIPPED["eea-csf-poland"]
    assert {"EE", "LV", "LT"} <= set(acf.partnership.countries.eligible)
    assert not {"RU", "BY"} & set(acf.partnership.countries.eligible)
    assert acf.deadline is None
    assert eea.budget.grant is not None
    assert (eea.budget.grant.min, eea.budget.grant.max) == (10000, 80000)
    ncm, successor = SHIPPED["nordic-ngo-baltic-sea"], SHIPPED["nordic-baltic-ngo"]
    assert ncm.status == "closed" and ncm.partnership.countries.min_distinct == 3
    assert successor.currency == "EUR"
    assert successor.partnership.countries.lead_eligible == ["EE", "LV", "LT"]
    assert successor.duration is not None and successor.duration.max_months == 12
    assert successor.budget.grant is not None
    assert (successor.budget.grant.min, successor.budget.grant.max) == (10000, 25000)
    assert SHIPPED["interreg-bsr-small"].award_criteria == []  # BSR publishes no points grid
    assert not SHIPPED["interreg-bsr-small"].partnership.partners.assumption


# --- texts in several languages -----------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("pl", "Zarys"),
        ("en", "Outline"),
        ("nb", "Outline"),
        ("pl_PL", "Zarys"),
        ("lt-LT", "Outline"),
    ],
)
def test_text_for_picks_the_readers_language_then_the_fallback(locale, expected):
    assert text_for({"pl": "Zarys", "en": "Outline"}, locale) == expected


def test_text_for_falls_back_to_the_first_language_given_and_reads_no_as_nb():
    assert text_for({"pl": "Zarys"}, "lt") == "Zarys"
    assert text_for({"no": "Skisse", "en": "Outline"}, "nb") == "Skisse"
    assert text_for("Same for all", "pl") == "Same for all"
    assert text_for({"pl": "", "en": "Outline"}, "pl") == "Outline"


def test_notes_can_be_given_in_several_languages():
    eea = SHIPPED["eea-csf-poland"]
    assert eea.dates is not None
    assert eea.dates.note.get("pl").startswith("Pierwszy konkurs tematyczny zamknięto")
    assert eea.dates.note.get("en").startswith("The first thematic call closed")
    assert eea.summary.get("nb").startswith("Tilskudd")
    assert not parse_profile(BASE).sections[0].note  # an empty note is falsy


# --- the diff an admin reads ----------------------------------------------------------------


def test_the_diff_names_rules_figures_and_sections_that_changed():
    old = parse_profile(BASE)
    new = parse_profile(
        changed(
            "version: 1",
            "version: 2",
            changed("max: 80", "max: 70", changed("char_limit: 1000", "char_limit: 1200")),
        )
    )
    found_changes = {(c.area, c.path, c.old, c.new) for c in changes(old, new)}
    assert found_changes == {
        ("rules", "budget.grant_rate.max", "80", "70"),
        ("sections", "sections[summary].char_limit", "1000", "1200"),
    }


def test_reordering_sections_is_one_change_not_one_per_field():
    old = parse_profile(BASE)
    keys = [s.key for s in old.sections]
    swapped = old.model_copy(update={"sections": list(reversed(old.sections))})
    result = changes(old, swapped)
    assert [(c.path, c.new) for c in result] == [("sections (order)", ", ".join(reversed(keys)))]


def test_a_deadline_later_than_now_is_not_a_finding_of_the_closed_check():
    call = SHIPPED["nordic-baltic-ngo"]
    assert call.deadline is not None
    soon = call.deadline.moment() - timedelta(days=8)
    assert [f for f in run_checks(call, ProposalFacts(now=soon)) if f.check == "deadline"] == []
