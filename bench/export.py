"""Time the Word export of a 60-page application and measure its peak memory.

The application: 20 sections of 3,000 characters (Polish text with lists,
bold, italic and links), 8 partners and 200 budget lines (``exports/sample.py``).
Each run is a fresh Python process (``--one``) that imports Engage's exports,
builds the snapshot and then times ``build_application`` (build + save to
bytes) alone; its peak memory is the process's maximum resident set size
(``resource.getrusage``), which includes the interpreter and the imports.

With ``--pdf`` the run also makes the PDF with LibreOffice headless
(``proposals.domain.pdf``: the contents updated, the PDF written) and reports
that conversion's time and the peak resident memory of the LibreOffice process
(``RUSAGE_CHILDREN``). Each run starts with a fresh LibreOffice profile, as a
worker's first conversion does; ``--warm`` converts once before timing, as every
later conversion of a worker is.

    /tmp/venv/bin/python bench/export.py [--runs 9] [--pdf [--warm]]
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def one(pdf: bool, warm: bool) -> None:
    from exports import sample
    from exports.application import build_application

    snapshot = sample.snapshot(sections=20, section_length=3000, partners=8, lines=200)
    started = time.perf_counter()
    data = build_application(snapshot)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"seconds": seconds, "peak_mib": peak_mib, "bytes": len(data)}
    if pdf:
        from proposals.domain.pdf import docx_to_pdf

        if warm:
            docx_to_pdf(data)
        started = time.perf_counter()
        document = docx_to_pdf(data)
        result["pdf_seconds"] = time.perf_counter() - started
        result["pdf_peak_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        result["pdf_bytes"] = len(document)
        result["pdf_pages"] = len(re.findall(rb"/Type\s*/Page\b(?!s)", document))
    print(json.dumps(result))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--pdf", action="store_true", help="also convert to PDF (LibreOffice)")
    parser.add_argument("--warm", action="store_true", help="time a worker's later conversions")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one(args.pdf, args.warm)
        return
    flags = [*(["--pdf"] if args.pdf else []), *(["--warm"] if args.warm else [])]
    results = []
    for _ in range(args.runs):
        done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
            [sys.executable, __file__, "--one", *flags], capture_output=True, text=True, check=True
        )
        results.append(json.loads(done.stdout))
    times = sorted(r["seconds"] for r in results)
    peaks = sorted(r["peak_mib"] for r in results)
    print(f"{args.runs} runs, 20 sections x 3,000 characters, 8 partners, 200 budget lines")
    print(f"export time: median {statistics.median(times):.3f} s, max {times[-1]:.3f} s")
    print(f"peak memory: median {statistics.median(peaks):.0f} MiB, max {peaks[-1]:.0f} MiB")
    print(f"file size: {results[0]['bytes'] / 1024:.0f} KiB")
    if args.pdf:
        times = sorted(r["pdf_seconds"] for r in results)
        peaks = sorted(r["pdf_peak_mib"] for r in results)
        first = results[0]
        print(f"PDF time: median {statistics.median(times):.3f} s, max {times[-1]:.3f} s")
        median = statistics.median(peaks)
        print(f"LibreOffice peak memory: median {median:.0f} MiB, max {peaks[-1]:.0f} MiB")
        print(f"PDF: {first['pdf_pages']} pages, {first['pdf_bytes'] / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
