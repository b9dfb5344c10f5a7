"""Bring the catalogues up to date and fill them from ``translations-pending/*.json``.

Run from the repository root::

    .venv/bin/python tools/apply_translations.py [--keep]

1. extracts the messages of the code and templates into ``messages.pot`` and
   updates every locale's ``messages.po`` (the README's two pybabel steps);
2. reads each ``translations-pending/*.json``, an object
   ``{"English msgid": {"pl": "...", "nb": "...", "lt": "..."}}`` (for a
   ``ngettext`` message the key is the singular and each value a list of the
   locale's plural forms), and writes every translation into its locale's
   catalogue, clearing the fuzzy mark that ``pybabel update`` may have set;
3. deletes each file whose every entry was applied (``--keep`` keeps them).

Entries whose msgid is not (or no longer) in the source, whose placeholders
differ from the English or whose number of plural forms is wrong are reported
and the file is kept, so nothing is lost silently. The exit status is 1 when
anything was reported.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "proposals" / "translations"
POT = TRANSLATIONS / "messages.pot"
PENDING = ROOT / "translations-pending"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def extract_and_update() -> None:
    """The README's pybabel steps, run in this interpreter."""
    cli = CommandLineInterface()
    common = ["pybabel", "-q"]
    keywords = ["-k", "_l", "-k", "lazy_gettext", "-k", "N_"]
    output = ["--no-location", "--sort-output", "-o", str(POT), str(ROOT)]
    cli.run([*common, "extract", "-F", str(ROOT / "babel.cfg"), *keywords, *output])
    cli.run([*common, "update", "-i", str(POT), "-d", str(TRANSLATIONS)])


def locales() -> list[str]:
    return sorted(p.name for p in TRANSLATIONS.iterdir() if (p / "LC_MESSAGES").is_dir())


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


def apply(files: list[Path]) -> tuple[list[Path], list[str]]:
    """Write the pending translations into the catalogues; (files fully applied, problems)."""
    catalogs = {}
    for locale in locales():
        with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
            catalogs[locale] = read_po(fh, locale=locale)
    done: list[Path] = []
    problems: list[str] = []
    for path in files:
        try:
            entries = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            problems.append(f"{path.name}: not readable JSON ({error})")
            continue
        if not isinstance(entries, dict):
            problems.append(f"{path.name}: expected a JSON object of msgid -> translations")
            continue
        clean = True
        for msgid, by_locale in entries.items():
            if not isinstance(by_locale, dict):
                problems.append(f"{path.name}: {msgid!r}: expected an object of locale -> text")
                clean = False
                continue
            for locale, text in by_locale.items():
                catalog = catalogs.get(locale)
                message = catalog.get(msgid) if catalog is not None else None
                if catalog is None:
                    problems.append(f"{path.name}: {msgid!r}: no catalogue for {locale!r}")
                elif message is None:
                    problems.append(f"{path.name}: {msgid!r}: not in the source any more")
                elif not _fits(message, text, catalog.num_plurals, path, locale, problems):
                    pass
                else:
                    message.string = tuple(text) if message.pluralizable else text
                    message.flags.discard("fuzzy")
                    continue
                clean = False
        if clean:
            done.append(path)
    for locale, catalog in catalogs.items():
        with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("wb") as fh:
            write_po(fh, catalog, width=76, omit_header=False, sort_output=True)
    return done, problems


def _fits(message, text, num_plurals: int, path: Path, locale: str, problems: list[str]) -> bool:  # type: ignore[no-untyped-def]
    where = f"{path.name}: {message.id!r} [{locale}]"
    if message.pluralizable:
        forms = [text] if isinstance(text, str) else text
        if not isinstance(forms, list) or len(forms) != num_plurals:
            problems.append(f"{where}: needs a list of {num_plurals} plural forms")
            return False
        wanted = _placeholders(message.id[1])
        texts = forms
    else:
        if not isinstance(text, str):
            problems.append(f"{where}: needs a string")
            return False
        wanted = _placeholders(message.id)
        texts = [text]
    for form in texts:
        if not isinstance(form, str) or not form.strip():
            problems.append(f"{where}: empty translation")
            return False
        got = _placeholders(form)
        # a plural form may drop %(num)s (e.g. "one file") but never invent a placeholder
        if set(got) - set(wanted) or (set(wanted) - {"%(num)s", "%(num)d"}) - set(got):
            problems.append(f"{where}: placeholders {got} differ from {wanted}")
            return False
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the applied JSON files")
    parser.add_argument("--no-extract", action="store_true", help="skip the pybabel steps")
    args = parser.parse_args(argv)
    if not args.no_extract:
        extract_and_update()
    files = sorted(PENDING.glob("*.json")) if PENDING.is_dir() else []
    done, problems = apply(files)
    for problem in problems:
        print(problem, file=sys.stderr)
    for path in done:
        print(f"applied {PENDING.name}/{path.name}")
        if not args.keep:
            path.unlink()
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
