"""The application as a Word document, from a proposal snapshot (pure: snapshot in, bytes out).

Our own layout: a title page, a table of contents field, one numbered heading
per section in the call's order with its text, the partner table, the budget
per partner and category, the co-funding table and the budget lines; the
acronym in the header and "Page X of Y" in the footer. Everything uses named
styles, so a funder's template restyles it. When the call names a funder
template, the same content is rendered into it with docxtpl instead.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from docx import Document
from docx.enum.text import WD_BREAK

from exports import wordkit
from exports.budget import SOURCE_KINDS
from exports.snapshot import ProposalSnapshot
from exports.wordkit import clean, figure, long_date, money, percent

TOC_INSTRUCTION = 'TOC \\o "1-2" \\h \\z \\u'


def build_application(snapshot: ProposalSnapshot, pages: Sequence[int] | None = None) -> bytes:
    """The .docx bytes of the application; the same snapshot gives the same bytes.

    ``pages``: the page of each heading as the contents list them (from a first layout
    of the same file), written into the contents; without it Word fills them on opening.
    """
    if snapshot.template is not None:
        return _from_template(snapshot)
    document = Document()
    wordkit.prepare(document)
    wordkit.update_fields_on_open(document)
    _title_page(document, snapshot)
    contents = _contents(document, snapshot)
    lists = wordkit._Lists(document)
    for number, section in enumerate(snapshot.sections, 1):
        document.add_heading(clean(f"{number}. {section.title}"), level=1)
        wordkit.write_markdown(document, section.text, lists)
    number = len(snapshot.sections)
    document.add_heading(f"{number + 1}. {snapshot.labels.partnership}", level=1)
    _partner_table(document, snapshot)
    wordkit.landscape_section(document)  # eight columns of figures need the width
    document.add_heading(f"{number + 2}. {snapshot.labels.budget}", level=1)
    _budget_tables(document, snapshot)
    wordkit.fill_contents(document, contents, pages=pages)
    _finish(document, snapshot)
    return wordkit.save(document, snapshot.moment)


def _properties(document: Any, snapshot: ProposalSnapshot) -> None:
    """Title, subject, author (the lead), language and a fixed time: the same bytes each time."""
    lead = snapshot.lead
    wordkit.set_properties(
        document,
        title=_name(snapshot),
        subject=snapshot.call_title,
        author=lead.name if lead else "",
        language=snapshot.language,
        keywords=f"{snapshot.funder}; {snapshot.call_id} v{snapshot.call_version}",
        moment=snapshot.moment,
    )


def _finish(document: Any, snapshot: ProposalSnapshot) -> None:
    wordkit.page_header(document, snapshot.acronym or snapshot.title)
    wordkit.page_footer(document, snapshot.labels.page)
    _properties(document, snapshot)


def _name(snapshot: ProposalSnapshot) -> str:
    return f"{snapshot.acronym} – {snapshot.title}" if snapshot.acronym else snapshot.title


def _title_page(document: Any, snapshot: ProposalSnapshot) -> None:
    labels, language = snapshot.labels, snapshot.language
    fields = snapshot.title_page
    if "acronym" in fields and snapshot.acronym:
        document.add_paragraph(clean(snapshot.acronym), style=document.styles["Title"])
    if "title" in fields:
        document.add_paragraph(clean(snapshot.title), style=document.styles["Subtitle"])
    facts: list[tuple[str, str]] = []
    if "call" in fields:
        facts.append((labels.call, f"{snapshot.call_title} ({snapshot.funder})"))
    if "partners" in fields:
        lead = snapshot.lead
        if lead is not None:
            facts.append((labels.lead_partner, f"{lead.name} ({lead.country_name})"))
        others = [f"{p.name} ({p.country_name})" for p in snapshot.partners if p.role != "lead"]
        if others:
            facts.append((labels.partners, "; ".join(others)))
    if "budget" in fields:
        facts.append(
            (labels.total_budget, money(snapshot.budget.total_costs, snapshot.currency, language))
        )
    if "grant" in fields:
        grant = snapshot.budget.funding("grant")
        facts.append((labels.grant, money(grant, snapshot.currency, language)))
    if "duration" in fields and snapshot.duration_months:
        facts.append((labels.duration, labels.months % {"n": snapshot.duration_months}))
    if "date" in fields:
        facts.append((labels.date, long_date(snapshot.date, language)))
    for label, value in facts:
        paragraph = document.add_paragraph(style=document.styles["Normal"])
        paragraph.add_run(clean(label) + ": ").bold = True
        paragraph.add_run(clean(value))
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _contents(document: Any, snapshot: ProposalSnapshot) -> Any:
    """The contents field (its entries are written once the headings are there)."""
    document.add_paragraph(clean(snapshot.labels.toc), style=document.styles["TOC Heading"])
    field = document.add_paragraph()
    wordkit.add_field(field, TOC_INSTRUCTION, clean(snapshot.labels.toc_placeholder))
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    return field


def partner_rows(snapshot: ProposalSnapshot) -> tuple[list[str], list[list[str]]]:
    labels = snapshot.labels
    header = [labels.number, labels.organisation, labels.country, labels.city, labels.role]
    rows = [
        [str(n), p.name, p.country_name, p.city, labels.role_name(p.role)]
        for n, p in enumerate(snapshot.partners, 1)
    ]
    return header, rows


def _partner_table(document: Any, snapshot: ProposalSnapshot) -> None:
    header, rows = partner_rows(snapshot)
    wordkit.table(document, header, rows)


def budget_rows(snapshot: ProposalSnapshot) -> tuple[list[str], list[list[str]]]:
    """Partners × cost categories, with the totals row last (the currency is said above)."""
    labels, budget, language = snapshot.labels, snapshot.budget, snapshot.language

    def amount(value: Any) -> str:
        return figure(value, language)

    header = [labels.organisation, *(c.title for c in budget.categories), labels.total]
    rows = [
        [
            p.name,
            *(amount(p.category_total(c.key)) for c in budget.categories),
            amount(p.total_costs),
        ]
        for p in budget.partners
    ]
    rows.append(
        [
            labels.total,
            *(amount(budget.category_total(c.key)) for c in budget.categories),
            amount(budget.total_costs),
        ]
    )
    return header, rows


def cofunding_rows(snapshot: ProposalSnapshot) -> tuple[list[str], list[list[str]]]:
    """Partners × funding sources, then the totals and each source's share."""
    labels, budget, language = snapshot.labels, snapshot.budget, snapshot.language

    def amount(value: Any) -> str:
        return figure(value, language)

    header = [labels.organisation, *(labels.source_name(k) for k in SOURCE_KINDS), labels.total]
    rows = [
        [p.name, *(amount(p.funding(k)) for k in SOURCE_KINDS), amount(p.total_funding)]
        for p in budget.partners
    ]
    rows.append(
        [
            labels.total,
            *(amount(budget.funding(k)) for k in SOURCE_KINDS),
            amount(budget.total_funding),
        ]
    )
    rows.append(
        [
            labels.share,
            *(percent(budget.source_share(k), language) for k in SOURCE_KINDS),
            percent(Decimal(1) if budget.total_funding else None, language),
        ]
    )
    return header, rows


def _budget_tables(document: Any, snapshot: ProposalSnapshot) -> None:
    labels, budget, language = snapshot.labels, snapshot.budget, snapshot.language
    currency = clean(labels.amounts_in % {"currency": budget.currency})
    document.add_heading(clean(labels.budget_by_partner), level=2)
    document.add_paragraph(currency)
    header, rows = budget_rows(snapshot)
    wordkit.table(document, header, rows, numeric_from=1)
    document.add_heading(clean(labels.cofunding), level=2)
    document.add_paragraph(currency)
    header, rows = cofunding_rows(snapshot)
    wordkit.table(document, header, rows, numeric_from=1)
    document.add_heading(clean(labels.budget_lines), level=2)
    titles = {c.key: c.title for c in budget.categories}
    lines = [
        [
            p.name,
            titles.get(line.category, line.category),
            line.description,
            wordkit.format_quantity(line.quantity, language),
            figure(line.unit_cost, language),
            figure(line.amount, language),
        ]
        for p in budget.partners
        for line in p.lines
    ]
    if not lines:
        document.add_paragraph(clean(labels.no_budget))
        return
    document.add_paragraph(currency)
    header = [
        labels.organisation,
        labels.category,
        labels.description,
        labels.quantity,
        labels.unit_cost,
        labels.amount,
    ]
    wordkit.table(document, header, lines, numeric_from=3)


# --- a funder's own template (docxtpl) ------------------------------------------------


def template_context(snapshot: ProposalSnapshot, template: Any) -> dict[str, Any]:
    """What a funder template's tags can use (documented in README, "Funder templates")."""
    labels, budget, language = snapshot.labels, snapshot.budget, snapshot.language
    lists = wordkit._Lists(template.get_docx())
    sections = []
    for number, section in enumerate(snapshot.sections, 1):
        body = template.new_subdoc()
        wordkit.write_markdown(body.subdocx, section.text, lists)
        sections.append(
            {"number": number, "key": section.key, "title": clean(section.title), "body": body}
        )
    lead = snapshot.lead
    return {
        "labels": {k: clean(v) for k, v in vars(labels).items()},
        "call": clean(snapshot.call_title),
        "funder": clean(snapshot.funder),
        "acronym": clean(snapshot.acronym),
        "title": clean(snapshot.title),
        "date": long_date(snapshot.date, language),
        "lead": clean(lead.name) if lead else "",
        "partners": [
            {
                "number": n,
                "name": clean(p.name),
                "country": clean(p.country_name),
                "city": clean(p.city),
                "role": clean(labels.role_name(p.role)),
            }
            for n, p in enumerate(snapshot.partners, 1)
        ],
        "budget": [
            {
                "name": clean(p.name),
                "total": money(p.total_costs, budget.currency, language),
                "grant": money(p.funding("grant"), budget.currency, language),
            }
            for p in budget.partners
        ],
        "total_budget": money(budget.total_costs, budget.currency, language),
        "grant": money(budget.funding("grant"), budget.currency, language),
        "sections": sections,
    }


def _from_template(snapshot: ProposalSnapshot) -> bytes:
    from docxtpl import DocxTemplate

    template = DocxTemplate(io.BytesIO(snapshot.template or b""))
    template.init_docx()
    wordkit.ensure_styles(template.get_docx())
    # autoescape: an "&" or "<" in user text must not break the XML.
    template.render(template_context(snapshot, template), autoescape=True)
    document = template.docx  # not get_docx(): after rendering, that reloads the template
    wordkit.update_fields_on_open(document)
    _properties(document, snapshot)
    return wordkit.save(document, snapshot.moment)
