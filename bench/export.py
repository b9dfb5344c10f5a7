"""Time the Word export of a 60-page application and measure its peak memory.

The application: 20 sections of 3,000 characters (Polish text with lists,
bold, italic and links), 8 partners and 200 budget lines (``exports/sample.py``).
Each run is a fresh Python process (``--one``) that imports Engage's exports,
builds the snapshot and then times ``build_application`` (build + save to
bytes) alone; its peak memory is the process's maximum resident set size
(``resource.getrusage``), which includes the interpreter and the imports.

    /tmp/venv/bin/python bench/export.py [--runs 9]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def one() -> None:
    from exports import sample
    from exports.application import build_application

    snapshot = sample.snapshot(sections=20, section_length=3000, partners=8, lines=200)
    started = time.perf_counter()
    data = build_application(snapshot)
    seconds = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "peak_mib": peak_mib, "bytes": len(data)}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        one()
        return
    results = []
    for _ in range(args.runs):
        done = subprocess.run(  # noqa: S603 - our own script, fixed arguments
            [sys.executable, __file__, "--one"], capture_output=True, text=True, check=True
        )
        results.append(json.loads(done.stdout))
    times = sorted(r["seconds"] for r in results)
    peaks = sorted(r["peak_mib"] for r in results)
    print(f"{args.runs} runs, 20 sections x 3,000 characters, 8 partners, 200 budget lines")
    print(f"export time: median {statistics.median(times):.3f} s, max {times[-1]:.3f} s")
    print(f"peak memory: median {statistics.median(peaks):.0f} MiB, max {peaks[-1]:.0f} MiB")
    print(f"file size: {results[0]['bytes'] / 1024:.0f} KiB")


if __name__ == "__main__":
    main()
