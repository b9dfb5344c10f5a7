"""Password hashing: argon2id at the standard cost unless a test suite asks for the fast
one, which production refuses."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from proposals.passwords import hash_password, verify_password
from proposals.settings import SettingsError, load_settings

PRINT_HASH = (
    "from proposals.passwords import hash_password; print(hash_password('a long password'))"
)


def _hash_in_a_fresh_process(**env: str) -> str:
    environ = {k: v for k, v in os.environ.items() if k != "ENGAGE_PASSWORD_HASHING"} | env
    done = subprocess.run(
        [sys.executable, "-c", PRINT_HASH], env=environ, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_the_standard_cost_unless_fast_is_asked_for_and_both_verify() -> None:
    standard = _hash_in_a_fresh_process()
    assert standard.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    fast = _hash_in_a_fresh_process(ENGAGE_PASSWORD_HASHING="fast")
    assert fast.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    # The cost is written in each hash: either kind is checked the same way.
    assert verify_password(standard, "a long password")
    assert not verify_password(standard, "a long passwore")
    assert verify_password(hash_password("x" * 12), "x" * 12)


def test_fast_hashing_is_refused_in_production_and_nonsense_anywhere() -> None:
    base = {"SECRET_KEY": "s" * 40}
    assert load_settings({**base, "ENGAGE_PASSWORD_HASHING": "fast"}).env == "development"
    with pytest.raises(SettingsError, match="ENGAGE_PASSWORD_HASHING=fast is for test suites"):
        load_settings({**base, "ENGAGE_ENV": "production", "ENGAGE_PASSWORD_HASHING": "fast"})
    load_settings({**base, "ENGAGE_ENV": "production", "ENGAGE_PASSWORD_HASHING": "standard"})
    for wrong in ("quick", "0", "FAST "):
        with pytest.raises(SettingsError, match="ENGAGE_PASSWORD_HASHING must be"):
            load_settings({**base, "ENGAGE_PASSWORD_HASHING": wrong})
