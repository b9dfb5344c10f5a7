"""A call's rules in plain words, in the user's language.

The call's detail page lists them; the checks quote the same sentences in
their findings, so the rule a consortium reads is the rule it is checked by.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from proposals.calls.schema import (
    AnnexRequirement,
    AwardCriterion,
    CallProfile,
    Composition,
    Countries,
    CountryGroup,
    Deadline,
    DonorStatePartner,
    Duration,
    FlatRate,
    GrantLimits,
    GrantRate,
    InKind,
    LocalText,
    LumpSums,
    Newcomers,
    OwnContribution,
    PartnerCount,
    Regions,
    ReviewThreshold,
    Rule,
    Section,
)
from proposals.i18n import (
    country_name,
    format_datetime,
    format_money,
    format_number,
    format_percent,
    get_locale,
    language_name,
    ngettext,
)
from proposals.i18n import gettext as _


def percent(value: Decimal) -> str:
    """A rate given in percent (90 -> "90.00%" / "90,00%")."""
    return format_percent(value / 100)


def money(profile: CallProfile, value: Decimal) -> str:
    return format_money(value, profile.currency)


def countries(codes: list[str]) -> str:
    return ", ".join(country_name(c) for c in codes)


@dataclass(frozen=True)
class SectionName:
    """How a section is named to a reader: in their language where the call gives it.

    ``official`` is the title the application uses (and the export prints); ``name``
    is the call's title in the reader's language, the same in every line of a page
    (the checks' findings use it too). A section the consortium added or renamed is
    named as it was written.
    """

    name: str
    official: str
    guidance: str
    official_guidance: str

    @property
    def translated(self) -> bool:
        return self.name != self.official


def section_names(profile: CallProfile, sections: Iterable[Any]) -> dict[str, SectionName]:
    """Each section's :class:`SectionName` by key (anything with key, title, guidance)."""
    locale = get_locale()
    names = {}
    for section in sections:
        spec = profile.section(section.key)
        title, guidance = section.title, getattr(section, "guidance", None) or ""
        from_call = spec is not None and title in _variants(spec.title)
        guidance_from_call = spec is not None and guidance in _variants(spec.guidance)
        names[section.key] = SectionName(
            name=spec.title.get(locale) if spec is not None and from_call else title,
            official=title,
            guidance=spec.guidance.get(locale)
            if spec is not None and guidance_from_call
            else guidance,
            official_guidance=guidance,
        )
    return names


def _variants(text: LocalText) -> set[str]:
    return {text.root} if isinstance(text.root, str) else set(text.root.values())


def section_title(profile: CallProfile, key: str, fallback: str = "") -> str:
    section = profile.section(key)
    return section.title.get(get_locale()) if section else (fallback or key)


def section_required(profile: CallProfile, section: Section) -> str:
    return _("“%(title)s” is a required section.", title=section_title(profile, section.key))


def section_limit(profile: CallProfile, section: Section) -> str:
    return _(
        "“%(title)s”: at most %(limit)s characters, spaces included.",
        title=section_title(profile, section.key),
        limit=format_number(section.char_limit or 0),
    )


def partner_count(rule: PartnerCount) -> str:
    if rule.max is not None:
        return _(
            "From %(min)s to %(max)s partners, the lead partner included.",
            min=rule.min,
            max=rule.max,
        )
    return ngettext(
        "At least %(num)s partner, the lead partner included.",
        "At least %(num)s partners, the lead partner included.",
        rule.min,
    )


def eligible_countries(rule: Countries) -> str:
    return _("Partners from: %(countries)s.", countries=countries(rule.eligible))


def lead_countries(rule: Countries) -> str:
    return _("Lead partner from: %(countries)s.", countries=countries(rule.lead_eligible))


def distinct_countries(rule: Countries) -> str:
    return _("Partners from at least %(min)s different countries.", min=rule.min_distinct)


def country_group(group: CountryGroup) -> str:
    return ngettext(
        "At least %(num)s partner from %(group)s (%(countries)s).",
        "At least %(num)s partners from %(group)s (%(countries)s).",
        group.min,
        group=group.name.get(get_locale()),
        countries=countries(group.countries),
    )


def donor_state(rule: DonorStatePartner) -> str:
    if rule.required:
        return _(
            "A partner from a donor state (%(countries)s) is required.",
            countries=countries(rule.countries),
        )
    return _(
        "A partner from a donor state (%(countries)s) is encouraged.",
        countries=countries(rule.countries),
    )


def grant_limits(profile: CallProfile, rule: GrantLimits) -> str:
    low = money(profile, rule.min) if rule.min is not None else None
    high = money(profile, rule.max) if rule.max is not None else None
    if low and high:
        return _("A grant from %(min)s to %(max)s.", min=low, max=high)
    if low:
        return _("A grant of at least %(min)s.", min=low)
    return _("A grant of at most %(max)s.", max=high)


def grant_rate(rule: GrantRate) -> str:
    return _("The grant may cover at most %(rate)s of the eligible costs.", rate=percent(rule.max))


def partner_grant_rate(rate: Decimal) -> str:
    return _(
        "Each partner's grant may cover at most %(rate)s of its eligible costs.", rate=percent(rate)
    )


def grant_rate_by_country(rule: GrantRate) -> list[str]:
    return [
        _("Partners from %(country)s: at most %(rate)s.", country=country_name(c), rate=percent(r))
        for c, r in rule.by_country.items()
    ]


def flat_rate(profile: CallProfile, rule: FlatRate) -> str:
    locale = get_locale()
    category = profile.category(rule.category)
    name = category.title.get(locale) if category else rule.category
    bases = ", ".join(
        c.title.get(locale) for key in rule.base if (c := profile.category(key)) is not None
    )
    if rule.exact:
        return _(
            "%(category)s: exactly %(rate)s of %(base)s.",
            category=name,
            rate=percent(rule.rate),
            base=bases,
        )
    return _(
        "%(category)s: at most %(rate)s of %(base)s.",
        category=name,
        rate=percent(rule.rate),
        base=bases,
    )


def in_kind(profile: CallProfile, rule: InKind) -> list[str]:
    if not rule.allowed:
        return [_("In-kind contributions (such as volunteer work) do not count.")]
    texts = [
        _("In-kind contributions, such as volunteer work, count as own contribution.")
        if rule.counts_as_own_contribution
        else _("In-kind contributions, such as volunteer work, may be shown in the budget.")
    ]
    if rule.hourly_rate is not None:
        texts.append(
            _(
                "Volunteer work is valued at %(rate)s per hour.",
                rate=money(profile, rule.hourly_rate),
            )
        )
    if rule.max_share_of_costs is not None:
        texts.append(in_kind_share(rule))
    return texts


def in_kind_share(rule: InKind) -> str:
    return _(
        "In-kind contributions may be at most %(share)s of the eligible costs.",
        share=percent(rule.max_share_of_costs or Decimal(0)),
    )


def own_contribution(rule: OwnContribution) -> str:
    if rule.scope == "partner":
        return _(
            "Each partner's own contribution (cash and counted in-kind) is at least "
            "%(share)s of its costs.",
            share=percent(rule.min),
        )
    return _(
        "Own contribution (cash and counted in-kind) of at least %(share)s of the costs.",
        share=percent(rule.min),
    )


def lump_sums(profile: CallProfile, rule: LumpSums) -> str:
    amounts = " / ".join(money(profile, a) for a in rule.amounts)
    return _("The grant is a lump sum of %(amounts)s.", amounts=amounts)


def funding_balance() -> str:
    return _("Grant, own contribution and other funding add up to the costs.")


def deadline(rule: Deadline) -> str:
    return _(
        "Applications close on %(when)s (%(zone)s).",
        when=format_datetime(rule.moment(), "long"),
        zone=rule.timezone,
    )


def duration(rule: Duration) -> str:
    if rule.min_months and rule.max_months:
        return _(
            "A project lasts from %(min)s to %(max)s months.",
            min=rule.min_months,
            max=rule.max_months,
        )
    if rule.max_months:
        return _("A project lasts at most %(max)s months.", max=rule.max_months)
    return _("A project lasts at least %(min)s months.", min=rule.min_months)


def criterion(rule: AwardCriterion) -> str:
    if rule.min_score is not None:
        return _(
            "up to %(max)s points, at least %(min)s needed", max=rule.max_score, min=rule.min_score
        )
    return _("up to %(max)s points", max=rule.max_score)


def review_total(rule: ReviewThreshold, profile: CallProfile) -> str:
    return _(
        "At least %(min)s of the %(max)s points in all.",
        min=rule.total_min,
        max=sum(c.max_score for c in profile.award_criteria),
    )


def additional_countries(rule: Countries) -> str:
    return _(
        "Partners from %(countries)s may join in addition; they count towards no minimum.",
        countries=countries(rule.additional),
    )


def newcomers(rule: Newcomers) -> str:
    return _(
        "At least %(share)s of the partners are new to the programme.",
        share=percent(rule.min_share),
    )


def regions(rule: Regions) -> str:
    parts = [
        _(
            "%(country)s: only the regions %(codes)s",
            country=country_name(country),
            codes=", ".join(codes),
        )
        for country, codes in rule.eligible.items()
    ]
    return _("Eligible area: %(parts)s (NUTS codes).", parts="; ".join(parts))


def group_count(count: int, name: str, by: str) -> str:
    """ "2 of the Nordic countries" (countries counted) or "2 from the Nordic countries"."""
    if by == "countries":
        return _("%(num)s of %(group)s", num=count, group=name)
    return _("%(num)s from %(group)s", num=count, group=name)


def composition(rule: Composition) -> str:
    locale = get_locale()
    options = [
        " + ".join(
            group_count(count, rule.groups[key].name.get(locale), rule.count)
            for key, count in option.items()
            if count
        )
        for option in rule.options
    ]
    if rule.count == "countries":
        return _(
            "Partners from at least one of these mixes of countries: %(options)s.",
            options=_(" or ").join(options),
        )
    return _(
        "Partners in at least one of these mixes: %(options)s.", options=_(" or ").join(options)
    )


def application_languages(profile: CallProfile) -> str:
    return _(
        "The application may be written in: %(languages)s; it is exported in %(first)s.",
        languages=", ".join(language_name(code) for code in profile.languages),
        first=language_name(profile.language),
    )


@dataclass(frozen=True)
class Explained:
    text: str
    rule: Rule


def format_label(file_format: str) -> str:
    """A file format as people name it."""
    return {
        "pdf": _("PDF"),
        "docx": _("Word document (.docx)"),
        "xlsx": _("Excel workbook (.xlsx)"),
        "odt": _("OpenDocument text (.odt)"),
        "jpg": _("JPEG image"),
        "png": _("PNG image"),
    }[file_format]


def annex(rule: AnnexRequirement) -> str:
    """Who gives the annex, in which formats, and whether it is required."""
    formats = ", ".join(format_label(f) for f in rule.formats)
    if rule.per == "partner":
        text = _("From each partner; %(formats)s.", formats=formats)
    else:
        text = _("Once for the proposal; %(formats)s.", formats=formats)
    return text + " " + (_("Required.") if rule.required else _("Optional."))


def budget_rules(profile: CallProfile) -> list[Explained]:
    budget = profile.budget
    out: list[Explained] = []
    if budget.lump_sums:
        out.append(Explained(lump_sums(profile, budget.lump_sums), budget.lump_sums))
    if budget.grant:
        out.append(Explained(grant_limits(profile, budget.grant), budget.grant))
    if budget.grant_rate:
        out.append(Explained(grant_rate(budget.grant_rate), budget.grant_rate))
        out += [Explained(t, budget.grant_rate) for t in grant_rate_by_country(budget.grant_rate)]
    if budget.own_contribution:
        out.append(Explained(own_contribution(budget.own_contribution), budget.own_contribution))
    out.append(Explained(" ".join(in_kind(profile, budget.in_kind)), budget.in_kind))
    out += [Explained(flat_rate(profile, f), f) for f in budget.flat_rates]
    return out


def partnership_rules(profile: CallProfile) -> list[Explained]:
    rules = profile.partnership
    out = [Explained(partner_count(rules.partners), rules.partners)]
    if rules.countries.eligible:
        out.append(Explained(eligible_countries(rules.countries), rules.countries))
    if rules.countries.lead_eligible:
        out.append(Explained(lead_countries(rules.countries), rules.countries))
    if rules.countries.min_distinct > 1:
        out.append(Explained(distinct_countries(rules.countries), rules.countries))
    out += [Explained(country_group(g), rules.countries) for g in rules.countries.groups]
    if rules.composition:
        out.append(Explained(composition(rules.composition), rules.composition))
    if rules.countries.additional:
        out.append(Explained(additional_countries(rules.countries), rules.countries))
    if rules.regions:
        out.append(Explained(regions(rules.regions), rules.regions))
    if rules.newcomers:
        out.append(Explained(newcomers(rules.newcomers), rules.newcomers))
    if rules.donor_state_partner:
        out.append(Explained(donor_state(rules.donor_state_partner), rules.donor_state_partner))
    return out
