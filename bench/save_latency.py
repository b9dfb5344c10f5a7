"""Save throughput and latency with 50 concurrent writers against real ``engage serve``.

Two set-ups, each on a fresh, empty database built over HTTP like the storm test:

  (i)  SQLite, one app process;
  (ii) PostgreSQL, two app processes on different ports sharing one fresh database
       (writers alternate between them).

Each writer (a thread with its own signed-in HTTP client, as one of three people who
may edit) saves to one of the proposal's sections: writers are spread over the
sections round-robin (``--shared K`` limits them to the first K sections, so that
several writers race on each). Every save is based on the number the writer last got
back and appends a unique marker, as in tests/test_save_storm.py. A run lasts
``--seconds`` or ``--saves`` saves per writer, whichever ends first.

    /tmp/venv/bin/python bench/save_latency.py                    # both set-ups
    /tmp/venv/bin/python bench/save_latency.py --only sqlite --seconds 10
    /tmp/venv/bin/python bench/save_latency.py --pool-size 60     # see bench/README.md

PostgreSQL: ``--postgres-url`` (default: DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/postgres) names the server; a database is
created for the run and dropped afterwards.

``--pool-size N`` is a diagnosis aid, not a setting of Engage: it starts the servers
with a sitecustomize (written to a temporary folder) that gives Engage's engine a
connection pool of N with no overflow, to show what the shipped pool (5 + 10) costs.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.storm_helpers import (  # noqa: E402
    Outcome,
    build_consortium,
    check_section,
    percentile,
    storm,
)
from tests.support import Server, fresh_database  # noqa: E402

SHIM = """
import os
_n = int(os.environ.get("BENCH_POOL_SIZE", "0") or 0)
if _n:
    import proposals.db as _db
    _orig = _db.make_engine
    def make_engine(url, **kw):
        kw.setdefault("pool_size", _n)
        kw.setdefault("max_overflow", 0)
        return _orig(url, **kw)
    _db.make_engine = make_engine
"""


def run(
    label: str,
    url: str,
    processes: int,
    args: argparse.Namespace,
    workdir: Path,
    extra_env: dict[str, str],
) -> dict[str, object]:
    servers = [Server(workdir / f"{label}-{i}", url, extra_env=extra_env) for i in range(processes)]
    try:
        team = build_consortium(servers[0])
        keys = team.keys[: args.shared] if args.shared else team.keys
        outcome = Outcome()
        started = time.perf_counter()
        storm(
            [s.url for s in servers],
            team.pid,
            keys,
            team.writers,
            args.writers,
            args.saves,
            outcome,
            duration=args.seconds,
            deadline_s=args.seconds,
            stop_on_5xx=False,
            pause=args.pause,
        )
        elapsed = time.perf_counter() - started
    finally:
        for server in servers:
            server.stop()
    lost = "none"
    try:
        for key in keys:
            mine = [t for t in outcome.acknowledged if _section_of(t, keys, key)]
            check_section(url, team.pid, key, mine)
    except AssertionError as exc:
        lost = f"CHECK FAILED: {exc}"
    ms = [x * 1000 for x in outcome.latencies]
    return {
        "setup": label,
        "sections": len(keys),
        "acked": len(outcome.acknowledged),
        "per_s": len(outcome.acknowledged) / elapsed,
        "p50": percentile(ms, 50),
        "p99": percentile(ms, 99),
        "max": max(ms) if ms else float("nan"),
        "kinds": dict(outcome.kinds),
        "errors": dict(outcome.statuses),
        "samples": dict(outcome.samples),
        "check": lost,
    }


def _section_of(text: str, keys: list[str], key: str) -> bool:
    # Writer i saves to keys[i % len(keys)]; its paragraph is "Paragraph Wii.".
    writer = int(text.split("Paragraph W", 1)[1][:2]) if "Paragraph W" in text else -1
    return writer >= 0 and keys[writer % len(keys)] == key


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--saves", type=int, default=1000, help="per writer (upper bound)")
    parser.add_argument("--shared", type=int, default=0, help="use only the first K sections")
    parser.add_argument(
        "--pause",
        type=float,
        default=0.0,
        help="each writer waits PAUSE..2*PAUSE s after each answer (the editor: 1.2)",
    )
    parser.add_argument("--only", choices=["sqlite", "postgres"], default=None)
    parser.add_argument("--pool-size", type=int, default=0)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("DATABASE_URL", "")
        or "postgresql://postgres@127.0.0.1:5432/postgres",
    )
    args = parser.parse_args()
    if args.writers > 99:
        parser.error("at most 99 writers (markers have two digits)")
    results = []
    with tempfile.TemporaryDirectory(prefix="engage-bench-") as tmp:
        workdir = Path(tmp)
        extra_env: dict[str, str] = {}
        if args.pool_size:
            shim = workdir / "shim"
            shim.mkdir()
            (shim / "sitecustomize.py").write_text(SHIM)
            extra_env = {
                "PYTHONPATH": f"{shim}{os.pathsep}{ROOT}",
                "BENCH_POOL_SIZE": str(args.pool_size),
            }
        if args.only in (None, "sqlite"):
            os.environ.pop("DATABASE_URL", None)
            with fresh_database(workdir, "bench") as url:
                results.append(run("sqlite x1", url, 1, args, workdir, extra_env))
        if args.only in (None, "postgres"):
            os.environ["DATABASE_URL"] = args.postgres_url
            with fresh_database(workdir, "bench") as url:
                results.append(run("postgres x2", url, 2, args, workdir, extra_env))
    pool = f"pool {args.pool_size}+0" if args.pool_size else "shipped pool (5+10)"
    print(
        f"\n{args.writers} writers, {args.seconds:.0f} s, "
        f"{f'pause {args.pause:g}-{2 * args.pause:g} s' if args.pause else 'no pause'}, {pool}, "
        f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M')}"
    )
    header = f"{'set-up':<12} {'sections':>8} {'acked':>6} {'saves/s':>8} {'p50 ms':>8} "
    header += f"{'p99 ms':>8} {'max ms':>8}  non-200 / errors"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['setup']:<12} {r['sections']:>8} {r['acked']:>6} {r['per_s']:>8.1f} "
            f"{r['p50']:>8.0f} {r['p99']:>8.0f} {r['max']:>8.0f}  {r['errors'] or '-'}"
        )
    for r in results:
        print(f"{r['setup']}: kinds {r['kinds']}; stored-text check: {r['check']}")
        for status, body in r["samples"].items():  # type: ignore[union-attr]
            print(f"  first {status}: {body!r}")
    failed = any(str(r["check"]).startswith("CHECK") for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
