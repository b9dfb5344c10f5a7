"""The check engine: named, generic checks parametrised by a call profile.

``run_checks(profile, facts)`` gives every finding; the workflow's guards ask
for one area (e.g. ``partnership`` to leave the partnership stage) and
"Check before submit" for all. Each finding says what is wrong in the user's
language, quotes the rule of the call it applies with its source, and names
where it is fixed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Literal

from proposals.calls import describe
from proposals.calls.describe import countries, money, percent, section_title
from proposals.calls.facts import PartnerFacts, ProposalFacts
from proposals.calls.schema import CallProfile, Rule, Source
from proposals.i18n import (
    country_name,
    format_date,
    format_datetime,
    format_number,
    get_locale,
    language_name,
    ngettext,
)
from proposals.i18n import gettext as _
from proposals.money import to_cents
from proposals.text import count_characters, plain_text

Severity = Literal["error", "warning"]
Area = Literal["partnership", "sections", "budget", "timing"]
DEADLINE_WARNING = timedelta(days=7)


@dataclass(frozen=True)
class Target:
    """Where a finding is fixed: an area of the proposal and, if any, the item in it."""

    area: Literal["partners", "sections", "budget", "proposal"]
    key: str | None = None


@dataclass(frozen=True)
class Finding:
    check: str
    severity: Severity
    message: str
    rule: str
    source: Source | None
    assumption: bool
    target: Target


@dataclass(frozen=True)
class Check:
    name: str
    area: Area
    run: Callable[[CallProfile, ProposalFacts], Iterable[Finding]]


CHECKS: dict[str, Check] = {}


def check(name: str, area: Area) -> Callable[[Callable[..., Iterable[Finding]]], Check]:
    """Register a check under ``name`` (names are stable: tests and audit rows use them)."""

    def register(function: Callable[[CallProfile, ProposalFacts], Iterable[Finding]]) -> Check:
        if name in CHECKS:
            raise ValueError(f"check {name!r} is registered twice")
        CHECKS[name] = Check(name, area, function)
        return CHECKS[name]

    return register


def run_checks(
    profile: CallProfile, facts: ProposalFacts, areas: Iterable[Area] | None = None
) -> list[Finding]:
    """Every finding of the registered checks (of ``areas``, if given), errors first."""
    wanted = set(areas) if areas is not None else None
    findings: list[Finding] = []
    for registered in CHECKS.values():
        if wanted is None or registered.area in wanted:
            findings.extend(registered.run(profile, facts))
    return sorted(findings, key=lambda f: f.severity != "error")


def blocking(findings: Iterable[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == "error"]


def _finding(
    name: str,
    severity: Severity,
    message: str,
    rule_text: str,
    rule: Rule,
    profile: CallProfile,
    target: Target,
) -> Finding:
    return Finding(
        name, severity, message, rule_text, profile.source_of(rule), rule.assumption, target
    )


def _additional(profile: CallProfile, partner: PartnerFacts) -> bool:
    """A partner from a country the call admits on top of the minimum (it counts for nothing)."""
    countries_rule = profile.partnership.countries
    return partner.country in countries_rule.additional and partner.role != "lead"


def _counted(profile: CallProfile, facts: ProposalFacts) -> list[PartnerFacts]:
    count_associated = profile.partnership.partners.count_associated
    return [
        p
        for p in facts.partners
        if (count_associated or p.role != "associated") and not _additional(profile, p)
    ]


# --- sections --------------------------------------------------------------------


@check("required_sections", "sections")
def required_sections(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    texts = {s.key: s.text for s in facts.sections}
    asked = profile.sections_at(facts.stage)
    for section in profile.sections:
        if section.key not in asked:
            continue  # asked for at a later stage
        if section.required and not plain_text(texts.get(section.key, "")).strip():
            message = _(
                "The section “%(title)s” is empty.", title=section_title(profile, section.key)
            )
            yield _finding(
                "required_sections",
                "error",
                message,
                describe.section_required(profile, section),
                section,
                profile,
                Target("sections", section.key),
            )


@check("char_limits", "sections")
def char_limits(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    for written in facts.sections:
        section = profile.section(written.key)
        if section is None or section.char_limit is None:
            continue
        used = count_characters(written.text)
        if used > section.char_limit:
            message = _(
                "The section “%(title)s” has %(used)s characters, %(over)s over the limit.",
                title=section_title(profile, section.key, written.title),
                used=format_number(used),
                over=format_number(used - section.char_limit),
            )
            yield _finding(
                "char_limits",
                "error",
                message,
                describe.section_limit(profile, section),
                section,
                profile,
                Target("sections", section.key),
            )


# --- partnership --------------------------------------------------------------------


@check("partner_count", "partnership")
def partner_count(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    rule = profile.partnership.partners
    count = len(_counted(profile, facts))
    message = None
    if count < rule.min:
        message = _(
            "The consortium has %(count)s partners; the call asks for at least %(min)s.",
            count=count,
            min=rule.min,
        )
    elif rule.max is not None and count > rule.max:
        message = _(
            "The consortium has %(count)s partners; the call allows at most %(max)s.",
            count=count,
            max=rule.max,
        )
    if message:
        yield _finding(
            "partner_count",
            "error",
            message,
            describe.partner_count(rule),
            rule,
            profile,
            Target("partners"),
        )


@check("eligible_countries", "partnership")
def eligible_countries(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    rule = profile.partnership.countries
    if not rule.eligible:
        return
    for partner in _counted(profile, facts):
        if partner.country not in rule.eligible:
            message = _(
                "%(partner)s is in %(country)s, which this call does not fund.",
                partner=partner.name,
                country=country_name(partner.country),
            )
            yield _finding(
                "eligible_countries",
                "error",
                message,
                describe.eligible_countries(rule),
                rule,
                profile,
                Target("partners", partner.key),
            )


@check("lead_country", "partnership")
def lead_country(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    rule = profile.partnership.countries
    lead = facts.lead
    if not rule.lead_eligible or lead is None or lead.country in rule.lead_eligible:
        return
    message = _(
        "The lead partner %(partner)s is in %(country)s; the lead must be from %(countries)s.",
        partner=lead.name,
        country=country_name(lead.country),
        countries=countries(rule.lead_eligible),
    )
    yield _finding(
        "lead_country",
        "error",
        message,
        describe.lead_countries(rule),
        rule,
        profile,
        Target("partners", lead.key),
    )


@check("distinct_countries", "partnership")
def distinct_countries(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    rule = profile.partnership.countries
    found = {p.country for p in _counted(profile, facts)}
    if len(found) < rule.min_distinct:
        message = _(
            "The partners come from %(count)s countries; the call asks for at least %(min)s.",
            count=len(found),
            min=rule.min_distinct,
        )
        yield _finding(
            "distinct_countries",
            "error",
            message,
            describe.distinct_countries(rule),
            rule,
            profile,
            Target("partners"),
        )


@check("country_groups", "partnership")
def country_groups(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    rule = profile.partnership.countries
    partners = _counted(profile, facts)
    for group in rule.groups:
        found = sum(1 for p in partners if p.country in group.countries)
        if found < group.min:
            message = ngettext(
                "%(num)s partner from %(group)s; the call asks for at least %(min)s.",
                "%(num)s partners from %(group)s; the call asks for at least %(min)s.",
                found,
                group=group.name.get(get_locale()),
                min=group.min,
            )
            yield _finding(
                "country_groups",
                "error",
                message,
                describe.country_group(group),
                rule,
                profile,
                Target("partners"),
            )


@check("newcomers", "partnership")
def newcomers(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    rule = profile.partnership.newcomers
    if rule is None:
        return
    partners = _counted(profile, facts)
    if not partners:
        return
    unknown = [p for p in partners if p.newcomer is None]
    new = sum(1 for p in partners if p.newcomer)
    # new / partners >= min_share %, in whole numbers: no rounding at the boundary.
    if new * 100 >= rule.min_share * len(partners):
        return
    if unknown:
        message = _(
            "%(new)s of %(count)s partners are marked as new to the programme; "
            "say for %(unknown)s whether they are.",
            new=new,
            count=len(partners),
            unknown=", ".join(p.name for p in unknown),
        )
        severity: Severity = "warning"
    else:
        message = _(
            "%(new)s of %(count)s partners are new to the programme; the call asks for at "
            "least %(share)s.",
            new=new,
            count=len(partners),
            share=percent(rule.min_share),
        )
        severity = "error"
    yield _finding(
        "newcomers",
        severity,
        message,
        describe.newcomers(rule),
        rule,
        profile,
        Target("partners"),
    )


@check("regions", "partnership")
def regions(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    rule = profile.partnership.regions
    if rule is None:
        return
    for partner in _counted(profile, facts):
        codes = rule.eligible.get(partner.country)
        if codes is None:
            continue
        if not partner.region:
            message = _(
                "%(partner)s is in %(country)s, where only some regions are eligible; "
                "say which region it is in.",
                partner=partner.name,
                country=country_name(partner.country),
            )
            severity: Severity = "warning"
        elif not any(partner.region.upper().startswith(code) for code in codes):
            message = _(
                "%(partner)s is in the region %(region)s, outside the call's area in %(country)s.",
                partner=partner.name,
                region=partner.region,
                country=country_name(partner.country),
            )
            severity = "error"
        else:
            continue
        yield _finding(
            "regions",
            severity,
            message,
            describe.regions(rule),
            rule,
            profile,
            Target("partners", partner.key),
        )


@check("composition", "partnership")
def composition(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    rule = profile.partnership.composition
    if rule is None:
        return
    partners = _counted(profile, facts)
    found: dict[str, int] = {}
    for key, group in rule.groups.items():
        members = [p for p in partners if p.country in group.countries]
        found[key] = len({p.country for p in members} if rule.count == "countries" else members)
    if any(all(found[k] >= n for k, n in option.items()) for option in rule.options):
        return
    locale = get_locale()
    have = _(" and ").join(
        describe.group_count(found[k], g.name.get(locale), rule.count)
        for k, g in rule.groups.items()
    )
    message = _("The partners come from %(have)s: none of the mixes the call allows.", have=have)
    yield _finding(
        "composition",
        "error",
        message,
        describe.composition(rule),
        rule,
        profile,
        Target("partners"),
    )


@check("donor_state_partner", "partnership")
def donor_state_partner(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    rule = profile.partnership.donor_state_partner
    if rule is None or any(p.country in rule.countries for p in _counted(profile, facts)):
        return
    if rule.required:
        message = _(
            "No partner comes from a donor state (%(countries)s).",
            countries=countries(rule.countries),
        )
    else:
        message = _(
            "No partner comes from a donor state (%(countries)s); the call encourages one.",
            countries=countries(rule.countries),
        )
    yield _finding(
        "donor_state_partner",
        "error" if rule.required else "warning",
        message,
        describe.donor_state(rule),
        rule,
        profile,
        Target("partners"),
    )


# --- budget --------------------------------------------------------------------------


@check("grant_limits", "budget")
def grant_limits(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    rule = profile.budget.grant
    if rule is None:
        return
    grant = facts.total("grant")
    text = describe.grant_limits(profile, rule)
    if rule.min is not None and grant < rule.min:
        message = _(
            "The grant requested, %(grant)s, is below the minimum of %(min)s.",
            grant=money(profile, grant),
            min=money(profile, rule.min),
        )
        yield _finding("grant_limits", "error", message, text, rule, profile, Target("budget"))
    if rule.max is not None and grant > rule.max:
        message = _(
            "The grant requested, %(grant)s, is above the maximum of %(max)s.",
            grant=money(profile, grant),
            max=money(profile, rule.max),
        )
        yield _finding("grant_limits", "error", message, text, rule, profile, Target("budget"))


def _rate_exceeded(grant: Decimal, costs: Decimal, max_rate: Decimal) -> bool:
    # Exact: grant / costs > max_rate / 100, without dividing (no rounding at the boundary).
    return grant * 100 > costs * max_rate


@check("grant_rate", "budget")
def grant_rate(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    rule = profile.budget.grant_rate
    if rule is None:
        return
    grant, costs = facts.total("grant"), facts.total("total_costs")
    if grant > 0 and _rate_exceeded(grant, costs, rule.max):
        message = _(
            "The consortium asks for %(grant)s, more than %(rate)s of its costs (%(costs)s).",
            grant=money(profile, grant),
            rate=percent(rule.max),
            costs=money(profile, costs),
        )
        yield _finding(
            "grant_rate",
            "error",
            message,
            describe.grant_rate(rule),
            rule,
            profile,
            Target("budget"),
        )
    if not rule.per_partner:
        return
    for partner in facts.partners:
        limit = rule.by_country.get(partner.country, rule.max)
        if partner.grant > 0 and _rate_exceeded(partner.grant, partner.total_costs, limit):
            message = _(
                "%(partner)s asks for %(grant)s, more than %(rate)s of its costs (%(costs)s).",
                partner=partner.name,
                grant=money(profile, partner.grant),
                rate=percent(limit),
                costs=money(profile, partner.total_costs),
            )
            yield _finding(
                "grant_rate",
                "error",
                message,
                describe.partner_grant_rate(limit),
                rule,
                profile,
                Target("budget", partner.key),
            )


@check("flat_rates", "budget")
def flat_rates(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    for rule in profile.budget.flat_rates:
        category = profile.category(rule.category)
        name = category.title.get(get_locale()) if category else rule.category
        for partner in facts.partners:
            amount = partner.costs.get(rule.category, Decimal(0))
            base = sum((partner.costs.get(k, Decimal(0)) for k in rule.base), Decimal(0))
            allowed = to_cents(base * rule.rate / 100, profile.budget.rounding)
            # Compared with the rounded allowance, as the budget page computes the line: a
            # flat-rate line at the call's rate, rounded half-up, is never above its rate.
            wrong = amount != allowed if rule.exact else amount > allowed
            if wrong:
                message = _(
                    "%(partner)s: %(category)s are %(amount)s; the flat rate allows %(allowed)s.",
                    partner=partner.name,
                    category=name,
                    amount=money(profile, amount),
                    allowed=money(profile, allowed),
                )
                yield _finding(
                    "flat_rates",
                    "error",
                    message,
                    describe.flat_rate(profile, rule),
                    rule,
                    profile,
                    Target("budget", partner.key),
                )


@check("in_kind", "budget")
def in_kind(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    rule = profile.budget.in_kind
    if not rule.allowed:
        for partner in facts.partners:
            if partner.in_kind > 0:
                message = _(
                    "%(partner)s counts %(amount)s of in-kind contribution, which this call "
                    "does not accept.",
                    partner=partner.name,
                    amount=money(profile, partner.in_kind),
                )
                yield _finding(
                    "in_kind",
                    "error",
                    message,
                    describe.in_kind(profile, rule)[0],
                    rule,
                    profile,
                    Target("budget", partner.key),
                )
        return
    total_in_kind, costs = facts.total("in_kind"), facts.total("total_costs")
    if (
        rule.max_share_of_costs is not None
        and total_in_kind * 100 > costs * rule.max_share_of_costs
    ):
        message = _(
            "In-kind contributions of %(amount)s are more than %(share)s of the costs (%(costs)s).",
            amount=money(profile, total_in_kind),
            share=percent(rule.max_share_of_costs),
            costs=money(profile, costs),
        )
        yield _finding(
            "in_kind",
            "error",
            message,
            describe.in_kind_share(rule),
            rule,
            profile,
            Target("budget"),
        )


def _own(profile: CallProfile, partner: PartnerFacts) -> Decimal:
    rule = profile.budget.in_kind
    counts = rule.allowed and rule.counts_as_own_contribution
    return partner.own_cash + (partner.in_kind if counts else Decimal(0))


@check("own_contribution", "budget")
def own_contribution(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    rule = profile.budget.own_contribution
    if rule is None:
        return
    text = describe.own_contribution(rule)
    if rule.scope == "consortium":
        own = sum((_own(profile, p) for p in facts.partners), Decimal(0))
        costs = facts.total("total_costs")
        if own * 100 < costs * rule.min:
            message = _(
                "The consortium's own contribution is %(own)s, less than %(share)s of its costs "
                "(%(costs)s).",
                own=money(profile, own),
                share=percent(rule.min),
                costs=money(profile, costs),
            )
            yield _finding(
                "own_contribution", "error", message, text, rule, profile, Target("budget")
            )
        return
    for partner in facts.partners:
        own = _own(profile, partner)
        if own * 100 < partner.total_costs * rule.min:
            message = _(
                "%(partner)s contributes %(own)s of its own, less than %(share)s of its costs "
                "(%(costs)s).",
                partner=partner.name,
                own=money(profile, own),
                share=percent(rule.min),
                costs=money(profile, partner.total_costs),
            )
            yield _finding(
                "own_contribution",
                "error",
                message,
                text,
                rule,
                profile,
                Target("budget", partner.key),
            )


@check("lump_sum", "budget")
def lump_sum(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    rule = profile.budget.lump_sums
    if rule is None:
        return
    grant = facts.total("grant")
    if grant not in rule.amounts:
        message = _(
            "The grant requested, %(grant)s, is not one of the call's lump sums (%(amounts)s).",
            grant=money(profile, grant),
            amounts=" / ".join(money(profile, a) for a in rule.amounts),
        )
        yield _finding(
            "lump_sum",
            "error",
            message,
            describe.lump_sums(profile, rule),
            rule,
            profile,
            Target("budget"),
        )


@check("funding_balance", "budget")
def funding_balance(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    rule = Rule(note="Costs and sources of funding must balance.")
    for partner in facts.partners:
        if partner.total_funding != partner.total_costs:
            message = _(
                "%(partner)s: the sources of funding add up to %(funding)s but the costs to "
                "%(costs)s.",
                partner=partner.name,
                funding=money(profile, partner.total_funding),
                costs=money(profile, partner.total_costs),
            )
            yield _finding(
                "funding_balance",
                "error",
                message,
                describe.funding_balance(),
                rule,
                profile,
                Target("budget", partner.key),
            )


# --- review and language -----------------------------------------------------------


@check("review_thresholds", "sections")
def review_thresholds(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    """A review's points under a criterion's or the call's total threshold (a warning)."""
    scores = facts.review_scores
    if not scores or not profile.award_criteria:
        return
    locale = get_locale()
    for criterion in profile.award_criteria:
        points = scores.get(criterion.key)
        if points is None or criterion.min_score is None or points >= criterion.min_score:
            continue
        message = _(
            "The review gave “%(criterion)s” %(points)s points; the call needs at least %(min)s.",
            criterion=criterion.title.get(locale),
            points=format_number(points),
            min=criterion.min_score,
        )
        yield _finding(
            "review_thresholds",
            "warning",
            message,
            describe.criterion(criterion),
            criterion,
            profile,
            Target("sections"),
        )
    rule = profile.review
    if rule is None or len(scores) < len(profile.award_criteria):
        return  # a total is only meaningful once every criterion is scored
    total = sum((scores[c.key] for c in profile.award_criteria), Decimal(0))
    if total < rule.total_min:
        message = _(
            "The review gave %(total)s points in all; the call needs at least %(min)s.",
            total=format_number(total),
            min=rule.total_min,
        )
        yield _finding(
            "review_thresholds",
            "warning",
            message,
            describe.review_total(rule, profile),
            rule,
            profile,
            Target("sections"),
        )


@check("application_language", "sections")
def application_language(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    if facts.language is None or facts.language in profile.languages:
        return
    message = _(
        "The application is written in %(language)s, which this call does not accept.",
        language=language_name(facts.language),
    )
    yield Finding(
        "application_language",
        "error",
        message,
        describe.application_languages(profile),
        None,
        False,
        Target("proposal"),
    )


# --- timing -----------------------------------------------------------------------------


@check("deadline", "timing")
def deadline(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    rule = profile.deadline
    if rule is None:
        return
    moment = rule.moment()
    if facts.now > moment:
        message = _("The deadline passed on %(date)s.", date=format_date(moment, "long"))
        yield _finding(
            "deadline", "error", message, describe.deadline(rule), rule, profile, Target("proposal")
        )
    elif moment - facts.now <= DEADLINE_WARNING:
        message = _("The deadline is close: %(when)s.", when=format_datetime(moment, "long"))
        yield _finding(
            "deadline",
            "warning",
            message,
            describe.deadline(rule),
            rule,
            profile,
            Target("proposal"),
        )


@check("stage_deadlines", "timing")
def stage_deadlines(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    """The next stage's deadline close, or every stage's deadline passed.

    Stages before the one the proposal is at are done and no longer warned about.
    """
    current = profile.stage(facts.stage)
    remaining = profile.stages[profile.stages.index(current) :] if current else []
    dated = [s for s in remaining if s.deadline is not None]
    if not dated:
        return
    locale = get_locale()
    upcoming = [s for s in dated if s.deadline and s.deadline.moment() >= facts.now]
    if not upcoming:
        stage = dated[-1]
        assert stage.deadline is not None
        moment = stage.deadline.moment()
        message = _(
            "The deadline of the last stage, “%(stage)s”, passed on %(date)s.",
            stage=stage.title.get(locale),
            date=format_date(moment, "long"),
        )
        severity: Severity = "error"
    else:
        stage = upcoming[0]
        assert stage.deadline is not None
        moment = stage.deadline.moment()
        if moment - facts.now > DEADLINE_WARNING:
            return
        message = _(
            "The deadline of the stage “%(stage)s” is close: %(when)s.",
            stage=stage.title.get(locale),
            when=format_datetime(moment, "long"),
        )
        severity = "warning"
    text = _(
        "“%(stage)s”: %(deadline)s",
        stage=stage.title.get(locale),
        deadline=describe.deadline(stage.deadline),
    )
    yield _finding("stage_deadlines", severity, message, text, stage, profile, Target("proposal"))


@check("duration", "timing")
def duration(profile: CallProfile, facts: ProposalFacts) -> Iterator[Finding]:
    rule = profile.duration
    months = facts.duration_months
    if rule is None or months is None:
        return
    too_short = rule.min_months is not None and months < rule.min_months
    too_long = rule.max_months is not None and months > rule.max_months
    if too_short or too_long:
        message = _(
            "The project lasts %(months)s months, outside what the call allows.", months=months
        )
        yield _finding(
            "duration", "error", message, describe.duration(rule), rule, profile, Target("proposal")
        )
