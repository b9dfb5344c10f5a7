"""The schema of a funder call profile: what a call requires, as validated data.

A profile is one YAML file (see ``proposals/calls/*.yaml``). Every rule in it
carries the source it comes from and whether its figure is an assumption, so
that a finding can quote the rule it applies and a mentor can correct it.
"""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pycountry
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    RootModel,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from proposals.calls.texts import text_for

KEY = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies)


def _key(value: str) -> str:
    if not KEY.match(value):
        raise ValueError("use lower-case letters, digits, '-' or '_', starting with a letter")
    return value


def _country(value: str) -> str:
    if len(value) != 2 or pycountry.countries.get(alpha_2=value) is None:
        raise ValueError(f"{value!r} is not an ISO 3166 country code (e.g. PL, NO, LT)")
    return value.upper()


def _language(value: str) -> str:
    if len(value) != 2 or pycountry.languages.get(alpha_2=value) is None:
        raise ValueError(f"{value!r} is not an ISO 639-1 language code (e.g. pl, en, no)")
    return value.lower()


NUTS = re.compile(r"^[A-Z]{2}[0-9A-Z]{1,3}$")


def _nuts(value: str) -> str:
    if not NUTS.match(value):
        raise ValueError(f"{value!r} is not a NUTS region code (e.g. DEF, DE8, PL63)")
    return value


def _web_address(value: str) -> str:
    if value and not value.lower().startswith(("https://", "http://")):
        raise ValueError("a web address starts with https:// or http://")
    return value


def _currency(value: str) -> str:
    if value not in CURRENCIES:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. EUR, DKK, PLN)")
    return value


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a time zone (e.g. Europe/Warsaw)") from None
    return value


Key = Annotated[str, AfterValidator(_key)]
Nuts = Annotated[str, AfterValidator(_nuts)]
Country = Annotated[str, AfterValidator(_country)]
Language = Annotated[str, AfterValidator(_language)]
Percent = Annotated[Decimal, Field(ge=0, le=100, decimal_places=2)]
Money = Annotated[Decimal, Field(ge=0, le=Decimal("999999999999.99"), decimal_places=2)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class LocalText(RootModel[str | dict[str, str]]):
    """Text in one language, or in several: ``{pl: "...", en: "..."}``."""

    model_config = ConfigDict(frozen=True)

    @field_validator("root")
    @classmethod
    def _languages(cls, value: str | dict[str, str]) -> str | dict[str, str]:
        if isinstance(value, dict):
            if not value:
                raise ValueError("give the text in at least one language")
            for code in value:
                _language(code)
        return value

    def get(self, locale: str, fallback: str = "en") -> str:
        return text_for(self.root, locale, fallback)

    def languages(self) -> list[str]:
        """The languages the text is given in (empty: one text for every language)."""
        return [] if isinstance(self.root, str) else list(self.root)

    def __str__(self) -> str:
        return self.get("en")

    def __bool__(self) -> bool:
        return bool(self.root) if isinstance(self.root, str) else any(self.root.values())


WebAddress = Annotated[str, AfterValidator(_web_address)]


class Source(Strict):
    title: str = Field(min_length=1)
    url: WebAddress = ""
    accessed: date | None = None


class Rule(Strict):
    """Every rule names where it comes from and whether its figure is assumed."""

    source: str | None = None
    assumption: bool = False
    note: LocalText = LocalText("")


class Section(Rule):
    key: Key
    title: LocalText
    guidance: LocalText = LocalText("")
    char_limit: int | None = Field(default=None, gt=0)
    required: bool = True
    written_by: Literal["lead", "each_partner", "any"] = "any"


class AwardCriterion(Rule):
    key: Key
    title: LocalText
    description: LocalText = LocalText("")
    max_score: int = Field(gt=0)
    min_score: int | None = Field(default=None, ge=0)


class CostCategory(Strict):
    key: Key
    title: LocalText
    kind: Literal["real", "flat_rate", "lump_sum"] = "real"


class FlatRate(Rule):
    """A category computed as a percentage of other categories (e.g. indirect costs)."""

    category: Key
    rate: Percent
    base: list[Key] = Field(min_length=1)
    exact: bool = False  # True: exactly this rate; False: at most this rate


class GrantLimits(Rule):
    min: Money | None = None
    max: Money | None = None


class GrantRate(Rule):
    max: Percent
    per_partner: bool = True
    by_country: dict[Country, Percent] = Field(default_factory=dict)


class OwnContribution(Rule):
    min: Percent
    scope: Literal["consortium", "partner"] = "consortium"


class InKind(Rule):
    allowed: bool = True
    hourly_rate: Money | None = None
    max_share_of_costs: Percent | None = None
    counts_as_own_contribution: bool = True


class LumpSums(Rule):
    amounts: list[Money] = Field(min_length=1)


class Budget(Strict):
    categories: list[CostCategory] = Field(min_length=1)
    flat_rates: list[FlatRate] = Field(default_factory=list)
    grant: GrantLimits | None = None
    grant_rate: GrantRate | None = None
    own_contribution: OwnContribution | None = None
    in_kind: InKind = InKind(allowed=False)
    lump_sums: LumpSums | None = None
    rounding: Literal["half_up", "down"] = "half_up"


class PartnerCount(Rule):
    min: int = Field(default=1, ge=1)
    max: int | None = Field(default=None, ge=1)
    count_associated: bool = False


class CountryGroup(Strict):
    """At least ``min`` partners must come from these countries (e.g. "one Nordic partner")."""

    name: LocalText
    countries: list[Country] = Field(min_length=1)
    min: int = Field(default=1, ge=1)


class Countries(Rule):
    eligible: list[Country] = Field(default_factory=list)  # empty: any country
    lead_eligible: list[Country] = Field(default_factory=list)
    min_distinct: int = Field(default=1, ge=1)
    groups: list[CountryGroup] = Field(default_factory=list)
    # Partners from these countries may join on top, but count towards no minimum.
    additional: list[Country] = Field(default_factory=list)


class Newcomers(Rule):
    """At least ``min_share`` percent of the counted partners are new to the programme."""

    min_share: Percent = Field(gt=0)


class Regions(Rule):
    """Only these regions (NUTS codes; a code covers its sub-regions) of the named countries."""

    eligible: dict[Country, list[Nuts]] = Field(min_length=1)


class GroupDefinition(Strict):
    name: LocalText
    countries: list[Country] = Field(min_length=1)


class Composition(Rule):
    """One of several mixes of country groups, e.g. 2 Nordic + 1 Baltic or 1 Nordic + 2 Baltic.

    ``count``: whether the figures count distinct countries or partners.
    """

    groups: dict[Key, GroupDefinition] = Field(min_length=1)
    options: list[dict[Key, Annotated[int, Field(ge=0, le=100)]]] = Field(min_length=1)
    count: Literal["countries", "partners"] = "countries"


class DonorStatePartner(Rule):
    countries: list[Country] = Field(min_length=1)
    required: bool = False  # False: encouraged (a warning), True: a partnership rule


class Partnership(Strict):
    partners: PartnerCount = PartnerCount()
    countries: Countries = Countries()
    donor_state_partner: DonorStatePartner | None = None
    newcomers: Newcomers | None = None
    regions: Regions | None = None
    composition: Composition | None = None


class Deadline(Rule):
    """When applications close: a date and time in the funder's time zone."""

    day: date = Field(alias="date")
    at: time = Field(default=time(23, 59), alias="time")
    timezone: Annotated[str, AfterValidator(_timezone)] = "Europe/Brussels"

    def moment(self) -> datetime:
        return datetime.combine(self.day, self.at, tzinfo=ZoneInfo(self.timezone))


class CallDates(Rule):
    """When the call (or round) opened and closed."""

    opens: date | None = None
    closes: date | None = None


class Stage(Rule):
    """One stage of a call in several stages (an outline, then a full application)."""

    key: Key
    title: LocalText
    deadline: Deadline | None = None
    sections: list[Key] = Field(min_length=1)


class ReviewThreshold(Rule):
    """The least total of points an application needs (per criterion: ``min_score``)."""

    total_min: int = Field(ge=0)


class Duration(Rule):
    min_months: int | None = Field(default=None, ge=1)
    max_months: int | None = Field(default=None, ge=1)


#: Funder .docx templates named by call profiles (``export.template``) live here.
TEMPLATES_DIR = Path(__file__).parent / "templates"


def _template(value: str | None, info: ValidationInfo) -> str | None:
    """A .docx file name in TEMPLATES_DIR; that it is there is checked when a file is loaded.

    A stored version is parsed again without the check (``context`` empty), so
    that a template removed later is an export error, not a broken proposal.
    """
    if value is None:
        return None
    if Path(value).name != value or not value.lower().endswith(".docx"):
        raise PydanticCustomError(
            "profile",
            "must be the name of a .docx file in proposals/calls/templates/, not {value!r}",
            {"value": value},
        )
    if (info.context or {}).get("check_files"):
        path = TEMPLATES_DIR / value
        if not path.is_file():
            raise PydanticCustomError(
                "profile",
                "names {value!r}, but there is no such file in proposals/calls/templates/",
                {"value": value},
            )
        try:
            with zipfile.ZipFile(path) as archive:
                if "word/document.xml" not in archive.namelist():
                    raise zipfile.BadZipFile
        except (zipfile.BadZipFile, OSError):
            raise PydanticCustomError(
                "profile", "names {value!r}, which is not a Word .docx file", {"value": value}
            ) from None
    return value


class Export(Strict):
    title_page: list[
        Literal["call", "acronym", "title", "partners", "budget", "grant", "date", "duration"]
    ] = Field(
        default_factory=lambda: ["call", "acronym", "title", "partners", "budget", "grant", "date"]
    )
    annexes: list[LocalText] = Field(default_factory=list)
    template: Annotated[str | None, AfterValidator(_template)] = None


#: The file formats an annex may have (checked by content when it is uploaded).
ANNEX_FORMATS = ("pdf", "docx", "xlsx", "odt", "jpg", "png")


class AnnexRequirement(Rule):
    """A file the call asks for: once per proposal, or from each partner."""

    key: Key
    title: LocalText
    guidance: LocalText = LocalText("")
    per: Literal["proposal", "partner"] = "proposal"
    formats: list[Literal["pdf", "docx", "xlsx", "odt", "jpg", "png"]] = Field(
        default_factory=lambda: list(ANNEX_FORMATS), min_length=1
    )
    required: bool = True
    # The partner's signed declaration: its upload records that partner's sign-off.
    declaration: bool = False
    # Who sees an uploaded file unless the uploader chooses: the whole consortium,
    # or only the partner and the coordinator.
    visibility: Literal["consortium", "partner"] = "consortium"


class CallProfile(Strict):
    id: Key
    version: int = Field(ge=1, le=1_000_000)
    funder: str = Field(min_length=1)
    programme: str = Field(min_length=1)
    title: LocalText
    summary: LocalText = LocalText("")
    url: WebAddress = ""
    languages: list[Language] = Field(min_length=1)
    currency: Annotated[str, AfterValidator(_currency)]
    status: Literal["open", "expected", "closed"] = "open"
    dates: CallDates | None = None
    verified_on: date | None = None
    checked: str = ""  # what was checked against the sources on verified_on
    deadline: Deadline | None = None
    duration: Duration | None = None
    sources: dict[Key, Source] = Field(default_factory=dict)
    sections: list[Section] = Field(min_length=1)
    stages: list[Stage] = Field(default_factory=list)
    award_criteria: list[AwardCriterion] = Field(default_factory=list)
    review: ReviewThreshold | None = None
    budget: Budget
    partnership: Partnership = Partnership()
    export: Export = Export()
    annexes: list[AnnexRequirement] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> CallProfile:
        problems = list(_cross_field_problems(self))
        if problems:
            raise ValidationError.from_exception_data(
                "CallProfile",
                [
                    InitErrorDetails(
                        type=PydanticCustomError("profile", message),
                        loc=loc,
                        input=value,
                    )
                    for loc, message, value in problems
                ],
            )
        return self

    @property
    def language(self) -> str:
        """The language the application is written and exported in."""
        return self.languages[0]

    def written_in(self, chosen: str | None) -> str:
        """The application's language: the one chosen if the call accepts it, else its first."""
        return chosen if chosen in self.languages else self.language

    def stage(self, key: str | None) -> Stage | None:
        """The stage ``key`` (None or unknown: the first); None for a call in one stage."""
        if not self.stages:
            return None
        return next((s for s in self.stages if s.key == key), self.stages[0])

    def next_stage(self, key: str | None) -> Stage | None:
        """The stage after ``key``, or None at the last stage (or for a call in one stage)."""
        current = self.stage(key)
        if current is None:
            return None
        index = self.stages.index(current)
        return self.stages[index + 1] if index + 1 < len(self.stages) else None

    def sections_at(self, key: str | None) -> set[str]:
        """The sections asked for up to the stage ``key``: its own and every earlier stage's.

        A section no stage names is asked for at every stage; a call in one stage asks
        for all of its sections.
        """
        everything = {s.key for s in self.sections}
        current = self.stage(key)
        if current is None:
            return everything
        staged = {k for stage in self.stages for k in stage.sections}
        earlier = self.stages[: self.stages.index(current) + 1]
        return (everything - staged) | {k for stage in earlier for k in stage.sections}

    def deadline_at(self, key: str | None) -> Deadline | None:
        """The deadline of the stage ``key`` if it has one, else the call's."""
        current = self.stage(key)
        if current is not None and current.deadline is not None:
            return current.deadline
        return self.deadline

    def section(self, key: str) -> Section | None:
        return next((s for s in self.sections if s.key == key), None)

    def annex(self, key: str) -> AnnexRequirement | None:
        return next((a for a in self.annexes if a.key == key), None)

    def category(self, key: str) -> CostCategory | None:
        return next((c for c in self.budget.categories if c.key == key), None)

    def stage_of(self, section_key: str) -> Stage | None:
        return next((s for s in self.stages if section_key in s.sections), None)

    def source_of(self, rule: Rule) -> Source | None:
        return self.sources.get(rule.source) if rule.source else None


Problem = tuple[tuple[str | int, ...], str, Any]


def _duplicates(items: list[Any], where: tuple[str, ...], what: str) -> list[Problem]:
    seen: set[str] = set()
    problems: list[Problem] = []
    for index, item in enumerate(items):
        if item.key in seen:
            problems.append(((*where, index, "key"), f"duplicate {what} {item.key!r}", item.key))
        seen.add(item.key)
    return problems


def _flat_rate_problems(budget: Budget) -> list[Problem]:
    categories = {c.key: c for c in budget.categories}
    problems: list[Problem] = []
    for index, flat in enumerate(budget.flat_rates):
        where = ("budget", "flat_rates", index)
        target = categories.get(flat.category)
        if target is None:
            message = f"unknown cost category {flat.category!r}"
            problems.append(((*where, "category"), message, flat.category))
        elif target.kind != "flat_rate":
            message = f"cost category {flat.category!r} is not of kind flat_rate"
            problems.append(((*where, "category"), message, flat.category))
        for position, base in enumerate(flat.base):
            if base not in categories:
                message = f"unknown cost category {base!r}"
                problems.append(((*where, "base", position), message, base))
            elif base == flat.category:
                message = "a flat rate cannot be based on its own category"
                problems.append(((*where, "base", position), message, base))
    return problems


def _cross_field_problems(profile: CallProfile) -> list[Problem]:
    """Rules that span fields: unique keys, known categories and sources, sane ranges."""
    budget = profile.budget
    partners = profile.partnership.partners
    problems = _duplicates(profile.sections, ("sections",), "section key")
    problems += _duplicates(profile.award_criteria, ("award_criteria",), "criterion key")
    problems += _duplicates(budget.categories, ("budget", "categories"), "category key")
    problems += _flat_rate_problems(budget)
    problems += _duplicates(profile.annexes, ("annexes",), "annex key")
    for index, annex in enumerate(profile.annexes):
        if annex.declaration and annex.per != "partner":
            message = "a signed declaration comes from each partner: use per: partner"
            problems.append((("annexes", index, "per"), message, annex.per))
    grant = budget.grant
    if grant and grant.min is not None and grant.max is not None and grant.min > grant.max:
        message = "minimum grant is above the maximum"
        problems.append((("budget", "grant", "min"), message, str(grant.min)))
    if budget.lump_sums and any(c.kind != "lump_sum" for c in budget.categories):
        message = "a call with lump sums has only categories of kind lump_sum"
        problems.append((("budget", "categories"), message, None))
    if partners.max is not None and partners.min > partners.max:
        message = "minimum partners is above the maximum"
        problems.append((("partnership", "partners", "min"), message, partners.min))
    problems += _standing_problems(profile)
    problems += _stage_problems(profile)
    problems += _partnership_problems(profile)
    if profile.review is not None:
        most = sum(c.max_score for c in profile.award_criteria)
        if not profile.award_criteria:
            message = "a total threshold needs award_criteria to add up"
            problems.append((("review", "total_min"), message, profile.review.total_min))
        elif profile.review.total_min > most:
            message = f"is above the {most} points the award criteria give in all"
            problems.append((("review", "total_min"), message, profile.review.total_min))
    partnership = profile.partnership
    rules: list[tuple[tuple[str | int, ...], Rule | None]] = [
        (("dates",), profile.dates),
        (("review",), profile.review),
        (("partnership", "newcomers"), partnership.newcomers),
        (("partnership", "regions"), partnership.regions),
        (("partnership", "composition"), partnership.composition),
        (("deadline",), profile.deadline),
        (("duration",), profile.duration),
        (("budget", "grant"), budget.grant),
        (("budget", "grant_rate"), budget.grant_rate),
        (("budget", "own_contribution"), budget.own_contribution),
        (("budget", "in_kind"), budget.in_kind),
        (("budget", "lump_sums"), budget.lump_sums),
        (("partnership", "partners"), partners),
        (("partnership", "countries"), profile.partnership.countries),
        (("partnership", "donor_state_partner"), profile.partnership.donor_state_partner),
    ]
    rules += [(("sections", i), s) for i, s in enumerate(profile.sections)]
    rules += [(("award_criteria", i), c) for i, c in enumerate(profile.award_criteria)]
    rules += [(("budget", "flat_rates", i), f) for i, f in enumerate(budget.flat_rates)]
    rules += [(("stages", i), s) for i, s in enumerate(profile.stages)]
    rules += [(("stages", i, "deadline"), s.deadline) for i, s in enumerate(profile.stages)]
    rules += [(("annexes", i), a) for i, a in enumerate(profile.annexes)]
    for loc, rule in rules:
        if rule is not None and rule.source and rule.source not in profile.sources:
            problems.append(((*loc, "source"), f"unknown source {rule.source!r}", rule.source))
    return problems


def _standing_problems(profile: CallProfile) -> list[Problem]:
    """A closed call says when it closed; a call's dates are in order."""
    problems: list[Problem] = []
    dates = profile.dates
    if profile.status == "closed" and (dates is None or dates.closes is None):
        message = "a closed call needs the date it closed: give dates.closes"
        problems.append((("status",), message, profile.status))
    if dates and dates.opens and dates.closes and dates.opens > dates.closes:
        problems.append((("dates", "opens"), "is after dates.closes", str(dates.opens)))
    return problems


def _stage_problems(profile: CallProfile) -> list[Problem]:
    problems = _duplicates(profile.stages, ("stages",), "stage key")
    known = {s.key for s in profile.sections}
    staged: set[str] = set()
    for index, stage in enumerate(profile.stages):
        for position, key in enumerate(stage.sections):
            where = ("stages", index, "sections", position)
            if key not in known:
                problems.append((where, f"unknown section {key!r}", key))
            elif key in staged:
                problems.append((where, f"section {key!r} is in two stages", key))
            staged.add(key)
    if len(profile.stages) == 1:
        message = "a call in stages has at least two (e.g. outline and full application)"
        problems.append((("stages",), message, None))
    return problems


def _partnership_problems(profile: CallProfile) -> list[Problem]:
    problems: list[Problem] = []
    partnership = profile.partnership
    eligible = set(partnership.countries.eligible)
    overlap = eligible & set(partnership.countries.additional)
    if overlap:
        message = f"{', '.join(sorted(overlap))} cannot be both eligible and additional"
        problems.append((("partnership", "countries", "additional"), message, None))
    if partnership.regions is not None:
        for country, codes in partnership.regions.eligible.items():
            where = ("partnership", "regions", "eligible", country)
            if eligible and country not in eligible:
                message = f"{country} is not among partnership.countries.eligible"
                problems.append((where, message, country))
            for code in codes:
                if not code.startswith(country) and not (country == "GR" and code[:2] == "EL"):
                    problems.append((where, f"{code!r} is not a region of {country}", code))
    composition = partnership.composition
    if composition is not None:
        for index, option in enumerate(composition.options):
            where = ("partnership", "composition", "options", index)
            for key in option:
                if key not in composition.groups:
                    problems.append((where, f"unknown group {key!r}", key))
            if not any(option.values()):
                problems.append((where, "asks for nobody: give at least one count", None))
    return problems
