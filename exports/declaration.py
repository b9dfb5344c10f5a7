"""A partnership declaration for one partner (.docx), filled with its data and contribution.

Pure: a snapshot and a partner's key in, bytes out. The partner prints it,
signs it and sends the scan to the lead partner for the submission package.
"""

from __future__ import annotations

from typing import Any

from docx import Document

from exports import wordkit
from exports.budget import SOURCE_KINDS
from exports.snapshot import ProposalSnapshot
from exports.wordkit import clean, long_date, money, percent


def build_declaration(snapshot: ProposalSnapshot, partner_key: str) -> bytes:
    """The declaration of the partner ``partner_key`` (a ``PartnerInfo.key``)."""
    partner = snapshot.partner(partner_key)
    if partner is None:
        raise KeyError(partner_key)
    labels, language = snapshot.labels, snapshot.language
    document = Document()
    wordkit.prepare(document)
    document.add_paragraph(clean(labels.declaration), style=document.styles["Title"])
    lead = snapshot.lead
    text = labels.declaration_text % {
        "partner": partner.name,
        "role": labels.role_name(partner.role).lower(),
        "title": snapshot.title,
        "acronym": snapshot.acronym or "–",
        "lead": lead.name if lead else "–",
        "call": snapshot.call_title,
    }
    document.add_paragraph(clean(text), style=document.styles["Normal"])
    document.add_heading(clean(labels.organisation), level=1)
    facts = [
        (labels.organisation, partner.name),
        (labels.role, labels.role_name(partner.role)),
        (labels.country, partner.country_name),
        (labels.city, partner.city),
        (labels.legal_form, partner.legal_form),
        (labels.contact, _contact(partner.contact_name, partner.contact_email)),
    ]
    wordkit.table(document, [labels.organisation, partner.name], [list(f) for f in facts[1:]])
    _contribution(document, snapshot, partner_key)
    written = [s.title for s in snapshot.sections if s.partner == partner_key]
    if written:
        document.add_heading(clean(labels.sections_written), level=1)
        for title in written:
            document.add_paragraph(clean(title), style=document.styles["List Bullet"])
    document.add_heading(clean(labels.signature), level=1)
    for label in (labels.place_date, labels.signatory, labels.signature):
        paragraph = document.add_paragraph(style=document.styles["Normal"])
        paragraph.add_run(clean(label) + ": ").bold = True
        paragraph.add_run("_" * 40)
    date_line = document.add_paragraph(style=document.styles["Normal"])
    date_line.add_run(f"{clean(labels.date)}: {long_date(snapshot.date, language)}")
    wordkit.page_header(document, snapshot.acronym or snapshot.title)
    wordkit.page_footer(document, labels.page)
    wordkit.set_properties(
        document,
        title=f"{labels.declaration} – {partner.name}",
        subject=snapshot.title,
        author=partner.name,
        language=language,
        keywords=f"{snapshot.funder}; {snapshot.call_id} v{snapshot.call_version}",
        moment=snapshot.moment,
    )
    return wordkit.save(document, snapshot.moment)


def _contact(name: str, email: str) -> str:
    return f"{name} <{email}>" if name and email else name or email or "–"


def _contribution(document: Any, snapshot: ProposalSnapshot, partner_key: str) -> None:
    labels, language, currency = snapshot.labels, snapshot.language, snapshot.currency
    document.add_heading(clean(labels.contribution), level=1)
    budget = snapshot.budget.partner(partner_key)
    if budget is None or not (budget.lines or budget.sources):
        document.add_paragraph(clean(labels.no_budget))
        return
    rows = [
        [c.title, money(budget.category_total(c.key), currency, language)]
        for c in snapshot.budget.categories
    ]
    rows.append([labels.total_costs, money(budget.total_costs, currency, language)])
    wordkit.table(document, [labels.category, labels.amount], rows, numeric_from=1)
    document.add_paragraph()
    sources = [
        [
            labels.source_name(kind),
            money(budget.funding(kind), currency, language),
            percent(budget.source_share(kind), language),
        ]
        for kind in SOURCE_KINDS
        if budget.funding(kind)
    ]
    if sources:
        wordkit.table(
            document, [labels.cofunding, labels.amount, labels.share], sources, numeric_from=1
        )
