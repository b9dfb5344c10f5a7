"""Word round-trip over HTTP: an edited export comes back, per section, and merges with Engage.

The demo application is exported; python-docx changes a sentence in two
sections (as a partner would in Word), while one of them is also edited in
Engage; the file is uploaded, one section accepted and the other rejected.
"""

from __future__ import annotations

import html
import io
import re
import zipfile

import docx
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from sqlalchemy import select

from exports.wordback import as_read_back, read_parts
from proposals.models import Revision, Section
from tests.budget_helpers import seeded, signed_in, the_proposal
from tests.conftest import csrf, post

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _written(db) -> list[Section]:  # type: ignore[no-untyped-def]
    proposal = the_proposal(db)
    ordered = sorted(proposal.sections, key=lambda s: (s.position, s.id))
    return [s for s in ordered if len(s.text) > 80]


def _paragraph_after(document, title: str):  # type: ignore[no-untyped-def]
    """The first text paragraph under the heading of ``title``."""
    paragraphs = document.paragraphs
    start = next(
        i
        for i, p in enumerate(paragraphs)
        if p.style.name == "Heading 1" and p.text.endswith(title)
    )
    return next(p for p in paragraphs[start + 1 :] if p.text.strip())


def _replace_first_sentence(paragraph, new: str) -> str:  # type: ignore[no-untyped-def]
    """Rewrite the paragraph's first run's text (what a Word user typing over it does)."""
    run = next(r for r in paragraph.runs if r.text.strip())
    old = run.text
    run.text = new + " "
    return old


def _save(client, pid: str, key: str, text: str, base: int):  # type: ignore[no-untyped-def]
    url = f"/proposals/{pid}/sections/{key}"
    token = csrf(client, url)
    return client.post(
        url + "/save",
        data={"csrf_token": token, "base": str(base), "text": text},
        headers={"Accept": "application/json"},
    )


def _upload(client, pid: str, export: str, data: bytes):  # type: ignore[no-untyped-def]
    token = csrf(client, f"/proposals/{pid}/final")
    return client.post(
        f"/proposals/{pid}/final/word",
        data={"csrf_token": token, "export": export},
        files={"file": ("Wniosek poprawiony.docx", data, DOCX)},
    )


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', page)
    assert found, name
    return html.unescape(found.group(1))


def test_word_edits_come_back_per_section_and_merge_with_engage(app, db):
    seeded(db)
    pid = the_proposal(db).public_id
    first, second = _written(db)[:2]
    first_key, second_key = first.key, second.key
    first_text, second_text = first.text, second.text
    anna = signed_in(app, "anna@demo.engage")

    exported = post(anna, f"/proposals/{pid}/final/export", {"kind": "application"})
    assert exported.status_code == 200
    page = anna.get(f"/proposals/{pid}/final").text
    assert "Bring back edits made in Word" in page
    export_id = re.search(r'name="export">\s*<option value="([\w-]+)"', page).group(1)

    # In Word: a sentence changed in each of the two sections.
    document = docx.Document(io.BytesIO(exported.content))
    old_first = _replace_first_sentence(
        _paragraph_after(document, first.title), "Zmienione w Wordzie przez Olę."
    )
    _replace_first_sentence(_paragraph_after(document, second.title), "Druga zmiana z Worda.")
    edited = io.BytesIO()
    document.save(edited)

    # Meanwhile in Engage: the end of the first section is edited in the browser.
    browser = first_text + "\n\nDopisane w przeglądarce."
    saved = _save(anna, pid, first_key, browser, first.current_number)
    assert saved.status_code == 200 and saved.json()["kind"] == "save"

    review = _upload(anna, pid, export_id, edited.getvalue())
    assert review.status_code == 200, review.text[:800]
    assert "Changes from Word" in review.text
    diffs = re.findall(r'<p class="diff">(.*?)</p>', review.text, re.S)
    assert len(diffs) == 2  # the two sections changed in Word, and no other
    assert "<del>Projekt</del><ins>Zmienione w Wordzie przez Olę.</ins>" in diffs[0]
    assert "<del>" in diffs[1] and "<ins>Druga</ins>" in diffs[1]
    assert "also edited in Engage after the export" in review.text
    assert "9. Partnerstwo" in review.text  # headings that are no section are named, not read

    form = {
        "section": [first_key, second_key],
        "decision-" + first_key: "accept",
        "decision-" + second_key: "reject",
    }
    for key in (first_key, second_key):
        form[f"base-{key}"] = _hidden(review.text, f"base-{key}")
        form[f"text-{key}"] = _hidden(review.text, f"text-{key}")
    applied = post(anna, f"/proposals/{pid}/final/word/apply", form)
    assert applied.status_code == 200
    assert "merged with the edits made in Engage" in applied.text

    db.expire_all()
    sections = {s.key: s for s in the_proposal(db).sections}
    accepted = sections[first_key].text
    assert "Zmienione w Wordzie przez Olę." in accepted  # the Word change
    assert "Dopisane w przeglądarce." in accepted  # and the browser edit, both kept
    assert old_first.strip() not in accepted
    assert accepted.count("**") == first_text.count("**")  # its Markdown spelling kept
    assert sections[second_key].text == second_text  # rejected: unchanged
    # Word's own text is a revision of the history too.
    kinds = db.scalars(
        select(Revision.kind).where(Revision.section_id == sections[first_key].id)
    ).all()
    assert "merge" in kinds


def test_uploads_that_are_not_the_export_get_a_clear_message(app, db):
    seeded(db)
    pid = the_proposal(db).public_id
    anna = signed_in(app, "anna@demo.engage")
    exported = post(anna, f"/proposals/{pid}/final/export", {"kind": "application"})
    page = anna.get(f"/proposals/{pid}/final").text
    export_id = re.search(r'name="export">\s*<option value="([\w-]+)"', page).group(1)

    not_word = _upload(anna, pid, export_id, b"MZ\x90\x00 an executable")
    assert not_word.status_code == 400 and "This is not a Word file" in not_word.text
    broken = _upload(anna, pid, export_id, b"PK\x03\x04 not really a zip")
    assert broken.status_code == 400 and "This is not a Word file" in broken.text
    forged = _upload(anna, pid, "nosuchexport", exported.content)
    assert forged.status_code == 400 and "Choose the export" in forged.text
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * (101 * 1024 * 1024))
    assert len(bomb.getvalue()) < 1024 * 1024
    unpacked = _upload(anna, pid, export_id, bomb.getvalue())
    assert unpacked.status_code == 400 and "This is not a Word file" in unpacked.text
    same = _upload(anna, pid, export_id, exported.content)
    assert same.status_code == 200 and "No section was changed in Word" in same.text
    blank = docx.Document()
    blank.add_paragraph("<script>alert(1)</script>")
    empty = io.BytesIO()
    blank.save(empty)
    none = _upload(anna, pid, export_id, empty.getvalue())
    assert none.status_code == 400 and "No section headings were found" in none.text


def test_tracked_changes_tables_and_odd_text_are_read_with_notices() -> None:
    document = docx.Document()
    document.add_heading("1. Cele", level=1)
    paragraph = document.add_paragraph("Stary tekst ")
    inserted = OxmlElement("w:ins")
    inserted.set(qn("w:id"), "1")
    inserted.set(qn("w:author"), "Ola Nordmann")
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "dodany *gwiazdką*"
    run.append(text)
    inserted.append(run)
    paragraph._p.append(inserted)
    deleted = OxmlElement("w:del")
    deleted.set(qn("w:id"), "2")
    deleted.set(qn("w:author"), "Rūta")
    paragraph._p.append(deleted)
    document.add_paragraph("Cytat", style="Quote")
    table = document.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text, table.rows[0].cells[1].text = "a", "b"
    buffer = io.BytesIO()
    document.save(buffer)
    (part,) = read_parts(buffer.getvalue())
    assert part.heading == "1. Cele"
    assert part.markdown == "Stary tekst dodany \\*gwiazdką\\*\n\nCytat\n\na | b"
    assert (part.insertions, part.deletions) == (1, 1)
    assert part.authors == {"Ola Nordmann", "Rūta"}
    assert part.notices == {"table", "style"}


def test_the_markdown_subset_reads_back_as_it_was_written() -> None:
    text = (
        "Akapit z **pogrubieniem**, *kursywą* i [linkiem](https://example.org/a_b).\n\n"
        "- punkt\n- drugi\n\n1. krok\n2. krok"
    )
    spelled = as_read_back(text)
    assert "**pogrubieniem**" in spelled and "*kursywą*" in spelled
    assert "[linkiem](https://example.org/a_b)" in spelled
    assert "- punkt\n- drugi\n\n1. krok" in spelled


def _export(anna, pid: str) -> tuple[bytes, str]:  # type: ignore[no-untyped-def]
    exported = post(anna, f"/proposals/{pid}/final/export", {"kind": "application"})
    assert exported.status_code == 200
    page = anna.get(f"/proposals/{pid}/final").text
    return exported.content, re.search(r'name="export">\s*<option value="([\w-]+)"', page).group(1)


def _tracked(tag: str, number: int, minute: int):  # type: ignore[no-untyped-def]
    change = OxmlElement(tag)
    change.set(qn("w:id"), str(number))
    change.set(qn("w:author"), "Ola Nordmann")
    change.set(qn("w:date"), f"2027-01-12T10:0{minute}:00Z")
    return change


def _run(text: str, tag: str = "w:t"):  # type: ignore[no-untyped-def]
    run = OxmlElement("w:r")
    node = OxmlElement(tag)
    node.set(qn("xml:space"), "preserve")
    node.text = text
    run.append(node)
    return run


def test_changes_are_taken_one_by_one_and_tracked_changes_name_their_author(app, db):
    seeded(db)
    pid = the_proposal(db).public_id
    section = _written(db)[0]
    key, original = section.key, section.text
    anna = signed_in(app, "anna@demo.engage")
    content, export_id = _export(anna, pid)

    # In Word: the first sentence retyped; then, with changes tracked, Ola deletes the
    # paragraph's last words and types new ones (Word splits the run to do so).
    document = docx.Document(io.BytesIO(content))
    first = _paragraph_after(document, section.title)
    _replace_first_sentence(first, "Zmiana pierwsza.")
    run = next(r for r in reversed(first.runs) if r.text.strip())
    words = run.text.rstrip().rsplit(" ", 3)
    assert len(words) == 4, run.text
    run.text = words[0] + " "
    deleted_words = " ".join(words[1:])
    tracked_del = _tracked("w:del", 90, 0)
    tracked_del.append(_run(deleted_words, "w:delText"))
    run._r.addnext(tracked_del)
    tracked_ins = _tracked("w:ins", 91, 1)
    tracked_ins.append(_run("Nowe zakończenie od Oli."))
    tracked_del.addnext(tracked_ins)
    edited = io.BytesIO()
    document.save(edited)

    review = _upload(anna, pid, export_id, edited.getvalue())
    assert review.status_code == 200, review.text[:800]
    page = html.unescape(review.text)
    assert "Changes one by one" in page
    assert "tracked deletion by Ola Nordmann, 2027-01-12" in page
    numbers = re.findall(rf'name="change-{re.escape(key)}" value="(\d+)"', review.text)
    assert len(numbers) >= 2

    def described(number: str) -> str:
        return page.split(f'name="change-{key}" value="{number}"', 1)[1].split("</li>", 1)[0]

    # Only Ola's tracked changes are taken: the retyped first sentence is not.
    chosen = [n for n in numbers if "Zmiana pierwsza." not in described(n)]
    assert chosen and len(chosen) < len(numbers)
    form = {
        "section": [key],
        "decision-" + key: "some",
        "change-" + key: chosen,
        "base-" + key: _hidden(review.text, f"base-{key}"),
        "text-" + key: _hidden(review.text, f"text-{key}"),
    }
    applied = post(anna, f"/proposals/{pid}/final/word/apply", form)
    assert applied.status_code == 200
    db.expire_all()
    text = {s.key: s for s in the_proposal(db).sections}[key].text
    assert "Nowe zakończenie od Oli." in text
    assert "Zmiana pierwsza." not in text
    assert text[:40] == original[:40]  # the first sentence as it was

    # "Only the changes ticked" with none ticked changes nothing.
    form["change-" + key] = []
    post(anna, f"/proposals/{pid}/final/word/apply", form)
    db.expire_all()
    assert {s.key: s for s in the_proposal(db).sections}[key].text == text


def test_apply_hunks_takes_exactly_the_chosen_changes() -> None:
    from proposals.domain.wordback import apply_hunks, hunks_of
    from proposals.text import word_diff

    old = "Three workshops in Gdańsk. A handbook in May. Ten volunteers."
    new = "Four workshops in Gdańsk. A handbook in May. Twelve volunteers and a film."
    hunks = hunks_of(word_diff(old, new))
    assert len(hunks) == 3  # Three→Four, Ten→Twelve, " and a film" added
    assert (hunks[0].removed, hunks[0].added) == ("Three", "Four")
    assert apply_hunks(old, new, set()) == old
    assert apply_hunks(old, new, {1, 2, 3}) == new
    assert (
        apply_hunks(old, new, {3})
        == "Three workshops in Gdańsk. A handbook in May. Ten volunteers and a film."
    )
    first_only = apply_hunks(old, new, {1})
    assert first_only == "Four workshops in Gdańsk. A handbook in May. Ten volunteers."
