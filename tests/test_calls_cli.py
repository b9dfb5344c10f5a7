"""``engage calls`` and ``engage calls check``, run as a user would: in a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from proposals.calls.loader import parse_profile, shipped_files
from tests.test_calls_profiles import BASE, BROKEN, changed


def engage(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``engage`` on a fresh SQLite database in ``tmp_path`` (never the test run's)."""
    ours = ("DATABASE_URL", "SECRET_KEY")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ENGAGE_", "SMTP_")) and k not in ours
    }
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'x.db'}"
    env["ENGAGE_INSTANCE_DIR"] = str(tmp_path / "instance")
    return subprocess.run(
        [sys.executable, "-m", "proposals.cli", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# --- engage calls ------------------------------------------------------------------------


def table(stdout: str) -> list[list[str]]:
    """The rows of the printed table, from its header on, split into columns."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("ID "))
    return [re.split(r" {2,}", line.strip()) for line in lines[start:] if line.strip()]


def test_calls_lists_every_shipped_profile_in_a_table(tmp_path):
    result = engage(tmp_path, "calls")
    assert result.returncode == 0, result.stderr
    no_traceback(result)
    rows = table(result.stdout)
    assert rows[0] == ["ID", "VERSION", "FUNDER", "PROGRAMME", "CURRENCY", "LANGUAGE"]
    by_id = {row[0]: row for row in rows[1:]}
    assert len(rows) == 6 and len(by_id) == 5
    for path in shipped_files():
        profile = parse_profile(path.read_text(encoding="utf-8"))
        assert by_id[profile.id] == [
            profile.id,
            str(profile.version),
            profile.funder,
            profile.programme,
            profile.currency,
            ",".join(profile.languages),
        ]
    assert by_id["nordic-ngo-baltic-sea"][4] == "DKK"
    assert by_id["acf-poland-national"][5] == "pl"


def test_calls_columns_line_up(tmp_path):
    lines = engage(tmp_path, "calls").stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("ID "))
    header, rows = lines[start], lines[start + 1 :]
    assert len(rows) == 5
    for column in ("VERSION", "FUNDER", "CURRENCY"):
        at = header.index(column)
        assert all(row[at - 2 : at] == "  " and row[at] != " " for row in rows), column


def test_calls_stores_the_shipped_profiles_once(tmp_path):
    first = engage(tmp_path, "calls")
    assert "Call profiles stored:" in first.stdout
    second = engage(tmp_path, "calls")
    assert second.returncode == 0
    assert "Call profiles stored:" not in second.stdout
    assert table(second.stdout) == table(first.stdout)


def test_calls_list_refuses_file_arguments(tmp_path):
    result = engage(tmp_path, "calls", "list", "some.yaml")
    assert result.returncode == 2
    assert "calls check FILE" in result.stderr
    no_traceback(result)


# --- engage calls check ------------------------------------------------------------------


def test_check_accepts_every_shipped_profile(tmp_path):
    files = [str(p) for p in shipped_files()]
    result = engage(tmp_path, "calls", "check", *files)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 5
    for name, line in zip(files, lines, strict=True):
        version = parse_profile(Path(name).read_text(encoding="utf-8")).version
        assert line == f"{name}: ok ({Path(name).stem} v{version})"
    no_traceback(result)


def test_check_does_not_touch_the_database(tmp_path):
    result = engage(tmp_path, "calls", "check", str(write(tmp_path, "ok.yaml", BASE)))
    assert result.returncode == 0
    assert result.stdout == f"{tmp_path / 'ok.yaml'}: ok (test-call v1)\n"
    assert not (tmp_path / "x.db").exists()


def test_check_reports_each_broken_profile_on_one_line_naming_the_field(tmp_path):
    files = {name: write(tmp_path, f"{name}.yaml", text) for name, (text, _, _) in BROKEN.items()}
    result = engage(tmp_path, "calls", "check", *map(str, files.values()))
    assert result.returncode == 1
    no_traceback(result)
    lines = result.stdout.splitlines()
    assert len(lines) == len(BROKEN) == 6
    for line, (name, (_, path, reason)) in zip(lines, BROKEN.items(), strict=True):
        assert line.startswith(f"{files[name]}: {path}: "), line
        assert reason in line


def test_check_goes_on_after_a_broken_file_and_fails_overall(tmp_path):
    broken = write(tmp_path, "broken.yaml", BROKEN["missing-currency"][0])
    good = write(tmp_path, "good.yaml", BASE)
    result = engage(tmp_path, "calls", "check", str(broken), str(good))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{broken}: currency: is required",
        f"{good}: ok (test-call v1)",
    ]


def test_check_lists_every_problem_of_one_file(tmp_path):
    text = changed("max: 80", "max: 120", BROKEN["missing-currency"][0])
    path = write(tmp_path, "two.yaml", text)
    result = engage(tmp_path, "calls", "check", str(path))
    assert result.returncode == 1
    assert [line.split(": ")[1] for line in result.stdout.splitlines()] == [
        "currency",
        "budget.grant_rate.max",
    ]


def test_check_reports_yaml_syntax_error_with_line_and_column(tmp_path):
    path = write(tmp_path, "syntax.yaml", changed("languages: [en]", "languages: [en"))
    result = engage(tmp_path, "calls", "check", str(path))
    assert result.returncode == 1
    no_traceback(result)
    assert result.stdout.startswith(f"{path}: line 7, column 9: not valid YAML")


def test_check_reports_a_missing_file(tmp_path):
    missing = tmp_path / "nowhere.yaml"
    result = engage(tmp_path, "calls", "check", str(missing))
    assert result.returncode == 1
    no_traceback(result)
    assert result.stdout == f"{missing}: cannot read: No such file or directory\n"


def test_check_reports_a_file_that_is_not_utf8(tmp_path):
    path = write(
        tmp_path, "latin.yaml", changed("Test Funder", "Fundacja Żagiel").encode("iso-8859-2")
    )
    result = engage(tmp_path, "calls", "check", str(path))
    assert result.returncode == 1
    no_traceback(result)
    assert result.stdout == f"{path}: the file is not UTF-8 text\n"


def test_check_reports_a_directory_given_as_a_file(tmp_path):
    result = engage(tmp_path, "calls", "check", str(tmp_path))
    assert result.returncode == 1
    no_traceback(result)
    assert result.stdout.startswith(f"{tmp_path}: cannot read: ")


def test_check_refuses_a_600_kb_file(tmp_path):
    path = write(tmp_path, "big.yaml", BASE + "# " + "x" * 600_000 + "\n")
    result = engage(tmp_path, "calls", "check", str(path))
    assert result.returncode == 1
    assert result.stdout == f"{path}: the file is larger than 524288 bytes\n"


@pytest.mark.parametrize(
    ("old", "new"),
    [("date: 2099-01-31", "date: 2099-02-31"), ("version: 1", "version: !!int one")],
    ids=["feb-31", "bad-int-tag"],
)
def test_check_reports_malformed_values_without_a_traceback(tmp_path, old, new):
    path = write(tmp_path, "odd.yaml", changed(old, new))
    result = engage(tmp_path, "calls", "check", str(path))
    no_traceback(result)
    assert result.returncode == 1
    assert result.stdout.startswith(f"{path}: ")


def test_check_without_a_file_exits_2_with_a_message(tmp_path):
    result = engage(tmp_path, "calls", "check")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "name at least one profile file" in result.stderr
    no_traceback(result)
