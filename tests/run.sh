#!/usr/bin/env bash
# The whole test suite from a fresh clone: a virtual environment with Engage and
# its test extras, Debian's Chromium for the journeys, LibreOffice + poppler to
# open every exported file and the OOXML validator (npm), then pytest.
# Pass pytest options through, e.g. `bash tests/run.sh -k signup`.
# Set DATABASE_URL=postgresql://... to run the suite on PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${ENGAGE_VENV:-.venv}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e ".[test]"

missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v soffice >/dev/null || missing+=(libreoffice-writer)
dpkg -s libreoffice-calc >/dev/null 2>&1 || missing+=(libreoffice-calc)
command -v pdftotext >/dev/null || missing+=(poppler-utils)
if ((${#missing[@]})); then
    echo "Installing from Debian: ${missing[*]}"
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    elif command -v sudo >/dev/null; then
        sudo apt-get update -qq
        sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "The tests need ${missing[*]}: install with apt-get and run again." >&2
        exit 1
    fi
fi

# The Open XML SDK validator (npm, pinned in tests/ooxml/package-lock.json) checks
# every .docx the exports write. `npm install` rather than `npm ci`: npm writes
# only this platform's binary into the lock file, which `npm ci` then refuses.
if [ ! -x tests/ooxml/node_modules/.bin/ooxml-validator ]; then
    command -v npm >/dev/null || { echo "The tests need Node.js and npm (OOXML validator)." >&2; exit 1; }
    npm install --prefix tests/ooxml --no-save --no-audit --no-fund --silent
fi

# axe-core (npm, pinned in tests/axe/package-lock.json) is injected into every page
# of the journeys by tests/e2e/test_accessibility.py.
if [ ! -f tests/axe/node_modules/axe-core/axe.min.js ]; then
    command -v npm >/dev/null || { echo "The tests need Node.js and npm (axe-core)." >&2; exit 1; }
    npm ci --prefix tests/axe --no-audit --no-fund --silent
fi

exec "$venv/bin/python" -m pytest "$@"
