"""The check engine: every check at its boundary (at the limit passes, one cent or one
character over fails), with messages in English and Polish that quote the rule."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from proposals import i18n
from proposals.calls.checks import CHECKS, blocking, run_checks
from proposals.calls.facts import PartnerFacts, ProposalFacts, SectionFacts
from proposals.calls.schema import CallProfile

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
D = Decimal

BASE: dict[str, Any] = {
    "id": "test-call",
    "version": 1,
    "funder": "Test Funder",
    "programme": "Test Programme",
    "title": "Test call",
    "languages": ["en"],
    "currency": "EUR",
    "sources": {"guide": {"title": "Guide for applicants", "url": "https://example.org/guide"}},
    "sections": [
        {"key": "summary", "title": "Summary", "char_limit": 10, "source": "guide"},
        {"key": "annex", "title": "Annex", "required": False},
    ],
    "budget": {
        "categories": [
            {"key": "staff", "title": "Staff"},
            {"key": "travel", "title": "Travel"},
            {"key": "office", "title": "Office", "kind": "flat_rate"},
        ],
        "flat_rates": [{"category": "office", "rate": 15, "base": ["staff"], "source": "guide"}],
        "grant": {"min": 1000, "max": 5000, "source": "guide"},
        "grant_rate": {"max": 80, "by_country": {"NO": 50}, "source": "guide"},
        "own_contribution": {"min": 20, "scope": "partner", "source": "guide"},
        "in_kind": {"allowed": True, "max_share_of_costs": 10, "source": "guide"},
    },
    "partnership": {
        "partners": {"min": 2, "max": 3, "source": "guide"},
        "countries": {
            "eligible": ["PL", "NO", "LT"],
            "lead_eligible": ["PL"],
            "min_distinct": 2,
            "groups": [{"name": "the Nordic countries", "countries": ["NO", "IS"], "min": 1}],
            "source": "guide",
        },
        "donor_state_partner": {"countries": ["NO", "IS", "LI"], "required": True},
    },
    "deadline": {"date": "2026-12-01", "time": "12:00", "timezone": "Europe/Warsaw"},
    "duration": {"min_months": 6, "max_months": 24},
}


def profile(**changes: Any) -> CallProfile:
    data = copy.deepcopy(BASE)
    for dotted, value in changes.items():
        target = data
        *path, last = dotted.split("__")
        for key in path:
            target = target[key]
        target[last] = value
    return CallProfile.model_validate(data)


def partner(
    key: str = "pl", country: str = "PL", role: str = "partner", **money: str
) -> PartnerFacts:
    costs = {k[5:]: D(v) for k, v in money.items() if k.startswith("cost_")}
    sources = {k: D(v) for k, v in money.items() if not k.startswith("cost_")}
    return PartnerFacts(
        key=key, name=f"Org {key}", country=country, role=role, costs=costs, **sources
    )  # type: ignore[arg-type]


def balanced(key: str, country: str, role: str = "partner") -> PartnerFacts:
    """A partner whose figures satisfy every budget rule of BASE (50 % grant for Norway)."""
    grant = "825.00" if country == "NO" else "1320.00"
    own = str(D("1650.00") - D(grant))
    return partner(
        key,
        country,
        role,
        cost_staff="1000.00",
        cost_travel="500.00",
        cost_office="150.00",
        grant=grant,
        own_cash=own,
    )


GOOD_PARTNERS = (balanced("pl", "PL", "lead"), balanced("no", "NO"))
GOOD_SECTIONS = (SectionFacts("summary", "Summary", "Ten chars!"),)


def facts(**changes: Any) -> ProposalFacts:
    values: dict[str, Any] = {
        "now": NOW,
        "partners": GOOD_PARTNERS,
        "sections": GOOD_SECTIONS,
        "duration_months": 12,
    }
    values.update(changes)
    return ProposalFacts(**values)


def found(name: str, prof: CallProfile, fx: ProposalFacts) -> list:  # type: ignore[type-arg]
    return [f for f in CHECKS[name].run(prof, fx)]


@pytest.fixture(autouse=True)
def english() -> None:
    i18n.set_locale("en", "Europe/Warsaw")


def test_a_proposal_that_meets_every_rule_has_no_findings():
    assert run_checks(profile(), facts()) == []


def test_every_check_is_registered_under_a_stable_name():
    assert set(CHECKS) == {
        "required_sections",
        "char_limits",
        "partner_count",
        "eligible_countries",
        "lead_country",
        "distinct_countries",
        "country_groups",
        "newcomers",
        "regions",
        "composition",
        "donor_state_partner",
        "grant_limits",
        "grant_rate",
        "flat_rates",
        "in_kind",
        "own_contribution",
        "lump_sum",
        "funding_balance",
        "review_thresholds",
        "application_language",
        "deadline",
        "stage_deadlines",
        "duration",
    }


# --- sections ---------------------------------------------------------------------


def test_char_limit_exactly_at_the_limit_passes_one_over_fails():
    assert (
        found("char_limits", profile(), facts(sections=(SectionFacts("summary", "S", "a" * 10),)))
        == []
    )
    (finding,) = found(
        "char_limits", profile(), facts(sections=(SectionFacts("summary", "S", "a" * 11),))
    )
    assert finding.severity == "error"
    assert "11 characters, 1 over the limit" in finding.message
    assert finding.rule == "“Summary”: at most 10 characters, spaces included."
    assert finding.source.title == "Guide for applicants"
    assert (finding.target.area, finding.target.key) == ("sections", "summary")


def test_char_limit_counts_spaces_but_not_markdown_marks():
    # "**ab** cd ef" is "ab cd ef" in the funder's form: 8 characters.
    text = "**ab** cd _ef_"
    assert (
        found("char_limits", profile(), facts(sections=(SectionFacts("summary", "S", text),))) == []
    )
    assert found(
        "char_limits", profile(), facts(sections=(SectionFacts("summary", "S", text + "gh!"),))
    )


def test_required_section_missing_or_blank_is_an_error_optional_is_not():
    (missing,) = found("required_sections", profile(), facts(sections=()))
    assert missing.target.key == "summary" and "is empty" in missing.message
    (blank,) = found(
        "required_sections", profile(), facts(sections=(SectionFacts("summary", "S", "  \n\n  "),))
    )
    assert blank.target.key == "summary"
    assert (
        found("required_sections", profile(), facts(sections=(SectionFacts("summary", "S", "x"),)))
        == []
    )


# --- partnership ----------------------------------------------------------------------


def test_partner_count_boundaries():
    lead = balanced("pl", "PL", "lead")
    assert found("partner_count", profile(), facts(partners=(lead,)))[0].message.startswith(
        "The consortium has 1 partners; the call asks for at least 2"
    )
    assert found("partner_count", profile(), facts(partners=(lead, balanced("no", "NO")))) == []
    three = (lead, balanced("no", "NO"), balanced("lt", "LT"))
    assert found("partner_count", profile(), facts(partners=three)) == []
    four = (*three, balanced("lt2", "LT"))
    assert "at most 3" in found("partner_count", profile(), facts(partners=four))[0].message


def test_associated_partners_do_not_count_unless_the_call_says_so():
    people = (balanced("pl", "PL", "lead"), balanced("no", "NO", "associated"))
    assert found("partner_count", profile(), facts(partners=people))
    counted = profile(partnership__partners={"min": 2, "count_associated": True})
    assert found("partner_count", counted, facts(partners=people)) == []


def test_eligible_countries_name_the_partner():
    people = (balanced("pl", "PL", "lead"), balanced("de", "DE"))
    (finding,) = found("eligible_countries", profile(), facts(partners=people))
    assert finding.message == "Org de is in Germany, which this call does not fund."
    assert finding.target.key == "de"


def test_lead_country():
    people = (balanced("no", "NO", "lead"), balanced("pl", "PL"))
    (finding,) = found("lead_country", profile(), facts(partners=people))
    assert "the lead must be from Poland" in finding.message


def test_distinct_countries_and_country_groups():
    same = (balanced("pl", "PL", "lead"), balanced("pl2", "PL"))
    assert found("distinct_countries", profile(), facts(partners=same))
    (group,) = found("country_groups", profile(), facts(partners=same))
    assert group.message == "0 partners from the Nordic countries; the call asks for at least 1."
    assert found("country_groups", profile(), facts()) == []


def test_donor_state_partner_required_is_error_encouraged_is_warning():
    polish = (balanced("pl", "PL", "lead"), balanced("lt", "LT"))
    assert found("donor_state_partner", profile(), facts(partners=polish))[0].severity == "error"
    encouraged = profile(partnership__donor_state_partner={"countries": ["NO"], "required": False})
    (finding,) = found("donor_state_partner", encouraged, facts(partners=polish))
    assert finding.severity == "warning" and blocking([finding]) == []
    assert found("donor_state_partner", profile(), facts()) == []


# --- budget -------------------------------------------------------------------------------


def _one(grant: str, costs: str = "10000.00", country: str = "PL") -> tuple[PartnerFacts, ...]:
    return (partner("pl", country, "lead", cost_staff=costs, grant=grant),)


def test_grant_limits_at_the_cent():
    assert found("grant_limits", profile(), facts(partners=_one("1000.00"))) == []
    assert (
        "below the minimum of €1,000.00"
        in found("grant_limits", profile(), facts(partners=_one("999.99")))[0].message
    )
    assert found("grant_limits", profile(), facts(partners=_one("5000.00"))) == []
    assert (
        "above the maximum"
        in found("grant_limits", profile(), facts(partners=_one("5000.01")))[0].message
    )


def test_grant_rate_overall_and_per_partner_at_the_cent():
    assert found("grant_rate", profile(), facts(partners=_one("8000.00"))) == []
    findings = found("grant_rate", profile(), facts(partners=_one("8000.01")))
    assert {f.target.key for f in findings} == {None, "pl"}
    assert "more than 80.00% of its costs" in findings[0].message


def test_grant_rate_boundary_when_the_limit_is_not_a_whole_cent():
    # 80 % of 333.33 is 266.664: 266.66 is within, 266.67 is over.
    assert found("grant_rate", profile(), facts(partners=_one("266.66", "333.33"))) == []
    assert found("grant_rate", profile(), facts(partners=_one("266.67", "333.33")))


def test_grant_rate_by_country():
    norwegian = (partner("no", "NO", cost_staff="1000.00", grant="500.00"),)
    overall_ok = profile(
        budget__grant_rate={"max": 80, "per_partner": True, "by_country": {"NO": 50}}
    )
    assert found("grant_rate", overall_ok, facts(partners=norwegian)) == []
    over = (partner("no", "NO", cost_staff="1000.00", grant="500.01"),)
    (finding,) = found("grant_rate", overall_ok, facts(partners=over))
    assert finding.target.key == "no" and "50.00%" in finding.rule


def test_flat_rate_cap_at_the_cent():
    ok = (partner("pl", cost_staff="1000.00", cost_office="150.00"),)
    over = (partner("pl", cost_staff="1000.00", cost_office="150.01"),)
    assert found("flat_rates", profile(), facts(partners=ok)) == []
    (finding,) = found("flat_rates", profile(), facts(partners=over))
    assert finding.message == "Org pl: Office are €150.01; the flat rate allows €150.00."
    assert finding.rule == "Office: at most 15.00% of Staff."


def test_exact_flat_rate_must_match_after_rounding():
    exact = profile(
        budget__flat_rates=[{"category": "office", "rate": 15, "base": ["staff"], "exact": True}]
    )
    # 15 % of 333.33 = 49.9995 -> 50.00 (half up)
    assert (
        found(
            "flat_rates",
            exact,
            facts(partners=(partner("pl", cost_staff="333.33", cost_office="50.00"),)),
        )
        == []
    )
    assert found(
        "flat_rates",
        exact,
        facts(partners=(partner("pl", cost_staff="333.33", cost_office="49.99"),)),
    )


def test_in_kind_cap_and_refusal():
    ok = (partner("pl", cost_staff="1000.00", in_kind="100.00"),)
    over = (partner("pl", cost_staff="1000.00", in_kind="100.01"),)
    assert found("in_kind", profile(), facts(partners=ok)) == []
    assert (
        "more than 10.00% of the costs"
        in found("in_kind", profile(), facts(partners=over))[0].message
    )
    refused = profile(budget__in_kind={"allowed": False})
    (finding,) = found("in_kind", refused, facts(partners=ok))
    assert "does not accept" in finding.message


def test_own_contribution_per_partner_at_the_cent_and_in_kind_counts():
    ok = (partner("pl", cost_staff="1000.00", own_cash="150.00", in_kind="50.00"),)
    short = (partner("pl", cost_staff="1000.00", own_cash="150.00", in_kind="49.99"),)
    assert found("own_contribution", profile(), facts(partners=ok)) == []
    assert found("own_contribution", profile(), facts(partners=short))
    not_counted = profile(budget__in_kind={"allowed": True, "counts_as_own_contribution": False})
    assert found("own_contribution", not_counted, facts(partners=ok))


def test_own_contribution_for_the_consortium():
    consortium = profile(budget__own_contribution={"min": 20, "scope": "consortium"})
    people = (
        partner("a", cost_staff="500.00", own_cash="200.00"),
        partner("b", cost_staff="500.00"),
    )
    assert found("own_contribution", consortium, facts(partners=people)) == []
    people = (
        partner("a", cost_staff="500.00", own_cash="199.99"),
        partner("b", cost_staff="500.00"),
    )
    (finding,) = found("own_contribution", consortium, facts(partners=people))
    assert finding.target.key is None


def test_lump_sum_must_be_one_of_the_amounts():
    lump = profile(
        budget={
            "categories": [{"key": "lump", "title": "Lump sum", "kind": "lump_sum"}],
            "lump_sums": {"amounts": [30000, 60000]},
        }
    )
    assert (
        found(
            "lump_sum",
            lump,
            facts(partners=(partner("a", cost_lump="30000.00", grant="30000.00"),)),
        )
        == []
    )
    (finding,) = found("lump_sum", lump, facts(partners=(partner("a", grant="30000.01"),)))
    assert "€30,000.00 / €60,000.00" in finding.message


def test_funding_must_balance_costs_to_the_cent():
    assert found("funding_balance", profile(), facts()) == []
    off = (partner("a", cost_staff="100.00", grant="80.00", own_cash="19.99"),)
    (finding,) = found("funding_balance", profile(), facts(partners=off))
    assert "add up to €99.99 but the costs to €100.00" in finding.message


# --- timing -------------------------------------------------------------------------------


def test_deadline_passed_is_an_error_close_is_a_warning():
    deadline = datetime(2026, 12, 1, 11, 0, tzinfo=UTC)  # 12:00 in Warsaw
    assert found("deadline", profile(), facts(now=deadline - timedelta(days=8))) == []
    assert found("deadline", profile(), facts(now=deadline))[0].severity == "warning"
    assert (
        found("deadline", profile(), facts(now=deadline + timedelta(seconds=1)))[0].severity
        == "error"
    )


def test_duration_bounds():
    assert found("duration", profile(), facts(duration_months=6)) == []
    assert found("duration", profile(), facts(duration_months=24)) == []
    assert found("duration", profile(), facts(duration_months=25))
    assert found("duration", profile(), facts(duration_months=5))


def test_findings_are_errors_first_and_areas_can_be_chosen():
    bad = facts(partners=(balanced("de", "DE", "lead"),), sections=())
    partnership = run_checks(profile(), bad, areas=["partnership"])
    assert partnership and {f.check for f in partnership} <= {
        "partner_count",
        "eligible_countries",
        "lead_country",
        "distinct_countries",
        "country_groups",
        "donor_state_partner",
    }
    everything = run_checks(profile(), bad)
    severities = [f.severity for f in everything]
    assert severities == sorted(severities, key=lambda s: s != "error")


def test_messages_and_rules_are_in_polish_too():
    bad = facts(
        partners=(
            partner(
                "de",
                "DE",
                "lead",
                cost_staff="100.00",
                grant="99.00",
                cost_office="50.00",
                in_kind="5",
            ),
        ),
        sections=(SectionFacts("summary", "S", "a" * 11),),
        duration_months=30,
        now=datetime(2027, 1, 1, tzinfo=UTC),
    )
    english = run_checks(profile(), bad)
    i18n.set_locale("pl", "Europe/Warsaw")
    polish = run_checks(profile(), bad)
    assert [f.check for f in english] == [f.check for f in polish]
    assert len({f.check for f in polish}) >= 12
    for en, pl in zip(english, polish, strict=True):
        assert en.message != pl.message, en.message
        assert en.rule != pl.rule, en.rule
