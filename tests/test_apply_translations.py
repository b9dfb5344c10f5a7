"""tools/apply_translations.py: pending translations land in every catalogue, checked."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location(
        "apply_translations", ROOT / "tools" / "apply_translations.py"
    )
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    translations = tmp_path / "translations"
    shutil.copytree(ROOT / "proposals" / "translations", translations)
    monkeypatch.setattr(module, "TRANSLATIONS", translations)
    monkeypatch.setattr(module, "PENDING", tmp_path / "pending")
    (tmp_path / "pending").mkdir()
    return module


def _string(tool, locale: str, msgid: str):  # type: ignore[no-untyped-def]
    path = tool.TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        message = read_po(fh, locale=locale).get(msgid)
    return message.string, message.fuzzy


def test_a_clean_file_is_applied_to_every_locale_and_deleted(tool):
    pending = tool.PENDING / "helper.json"
    pending.write_text(
        json.dumps(
            {
                "Save": {"pl": "Zachowaj", "nb": "Lagre nå", "lt": "Įrašyti"},
                "%(num)s idea": {
                    "pl": ["%(num)s pomysł!", "%(num)s pomysły!", "%(num)s pomysłów!"],
                    "nb": ["%(num)s idé!", "%(num)s idéer!"],
                    "lt": ["%(num)s idėja!", "%(num)s idėjos!", "%(num)s idėjų!"],
                },
            }
        ),
        encoding="utf-8",
    )
    assert tool.main(["--no-extract"]) == 0
    assert not pending.exists()
    assert _string(tool, "nb", "Save") == ("Lagre nå", False)
    assert _string(tool, "lt", "%(num)s idea")[0][2] == "%(num)s idėjų!"


@pytest.mark.parametrize(
    "entry",
    [
        {"No such message in the source": {"pl": "Nie ma"}},
        {"Hello %(name)s,": {"nb": "Hei,"}},  # a placeholder lost
        {"Save": {"nb": "Lagre %(what)s"}},  # a placeholder invented
        {"%(num)s idea": {"pl": ["%(num)s pomysł", "%(num)s pomysły"]}},  # Polish has 3 forms
        {"Save": {"xx": "?"}},  # no such catalogue
        {"Save": {"lt": ""}},
    ],
)
def test_a_wrong_entry_is_reported_and_its_file_kept(tool, entry, capsys):
    pending = tool.PENDING / "helper.json"
    pending.write_text(json.dumps(entry), encoding="utf-8")
    before = _string(tool, "nb", "Save")
    assert tool.main(["--no-extract"]) == 1
    assert pending.exists()
    assert "helper.json" in capsys.readouterr().err
    assert _string(tool, "nb", "Save") == before


def test_unreadable_json_is_reported(tool, capsys):
    (tool.PENDING / "broken.json").write_text("{not json", encoding="utf-8")
    assert tool.main(["--no-extract"]) == 1
    assert "not readable JSON" in capsys.readouterr().err
