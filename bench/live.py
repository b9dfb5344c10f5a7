"""Live co-editing: 50 writers each sending a Yjs update every 300 ms over WebSockets.

Two set-ups, each on a fresh database built over HTTP like tests/test_collab.py:

  (i)  SQLite, one app process;
  (ii) PostgreSQL, two app processes sharing one fresh database (writers and
       observers alternate between them, so half the updates cross by NOTIFY).

Every writer (a pycrdt peer, tests/live_peers.py) types a unique word into the
same paragraph every ``--interval`` seconds; an observer on each process that
does not write records when each word arrives. Reported: updates stored per
second, p50/p99 from a writer's send to an observer's receipt (the same clock:
all peers run in this process; writers only send, as each browser applies others'
updates on its own machine), and the servers' CPU time per update (user +
system, from /proc). Afterwards every word must be in every document.

    .venv/bin/python bench/live.py                        # both set-ups
    .venv/bin/python bench/live.py --only sqlite --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.live_peers import Peer, cookie_header  # noqa: E402
from tests.storm_helpers import percentile  # noqa: E402
from tests.support import Server, fresh_database  # noqa: E402
from tests.test_collab import World  # noqa: E402


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(urls: list[str], cookie: str, writers: int, interval: float, seconds: float):  # type: ignore[no-untyped-def]
    sent: dict[bytes, float] = {}
    latencies: list[float] = []
    observers = [await Peer(u, cookie).open() for u in urls]

    def make_listener():  # type: ignore[no-untyped-def]
        heard_before: set[bytes] = set()  # a word counts when it first reaches this observer

        def heard(message: bytes) -> None:
            now = time.perf_counter()
            start = message.find(b"w")
            while start != -1:
                end = message.find(b"q", start)
                if end == -1:
                    break
                word = message[start : end + 1]
                if word in sent and word not in heard_before:
                    heard_before.add(word)
                    latencies.append(now - sent[word])
                start = message.find(b"w", end)

        return heard

    for observer in observers:
        observer.on_update = make_listener()
    # Writers send only: in a browser each applies others' updates on its own machine; here
    # 50 documents in one Python process would measure this process, not the server.
    peers = [await Peer(urls[n % len(urls)], cookie, listen=False).open() for n in range(writers)]
    for peer in [*observers, *peers]:
        await asyncio.wait_for(peer.synced.wait(), 30)
    words: list[str] = []
    deadline = time.perf_counter() + seconds

    async def write(n: int, peer: Peer) -> None:
        await asyncio.sleep(interval * n / writers)  # spread the writers over the interval
        e = 0
        while time.perf_counter() < deadline:
            word = f"w{n}x{e}q"
            words.append(word)
            at = await peer.type(word)
            sent[word.encode()] = at
            e += 1
            await asyncio.sleep(max(0.0, interval - (time.perf_counter() - at)))

    started = time.perf_counter()
    await asyncio.gather(*(write(n, p) for n, p in enumerate(peers)))
    elapsed = time.perf_counter() - started
    # Every word must reach every document.
    end = time.monotonic() + 30
    while time.monotonic() < end:
        texts = [p.markdown() for p in observers]
        if all(all(w in t for w in words) for t in texts) and len(set(texts)) == 1:
            break
        await asyncio.sleep(0.2)
    else:
        raise SystemExit("documents did not converge")
    for peer in [*observers, *peers]:
        await peer.close()
    return len(words), elapsed, latencies


def setup(name: str, url: str, processes: int, args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        servers = [Server(Path(tmp) / f"p{n}", database_url=url) for n in range(processes)]
        try:
            world = World(servers[0].url)
            world.save(world.anna, "Start.")
            sockets = [world.socket(s) for s in servers]
            before = sum(cpu_seconds(s.pid) for s in servers)
            count, elapsed, latencies = asyncio.run(
                run(sockets, cookie_header(world.anna), args.writers, args.interval, args.seconds)
            )
            cpu = sum(cpu_seconds(s.pid) for s in servers) - before
            latencies.sort()
            print(
                f"{name}: {count} updates in {elapsed:.1f} s = {count / elapsed:.0f} updates/s; "
                f"send->receipt p50 {percentile(latencies, 50) * 1000:.1f} ms, "
                f"p99 {percentile(latencies, 99) * 1000:.1f} ms "
                f"({len(latencies)} receipts); server CPU {cpu / count * 1000:.2f} ms per update "
                f"({cpu:.1f} s over {processes} process(es))"
            )
        finally:
            for server in servers:
                server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["sqlite", "postgres"])
    parser.add_argument("--writers", type=int, default=50)
    parser.add_argument("--interval", type=float, default=0.3)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/postgres",
    )
    args = parser.parse_args()
    if args.only in (None, "sqlite"):
        with tempfile.TemporaryDirectory() as tmp:
            setup("SQLite, 1 process", f"sqlite:///{tmp}/bench.db", 1, args)
    if args.only in (None, "postgres"):
        os.environ["DATABASE_URL"] = args.postgres_url
        with tempfile.TemporaryDirectory() as tmp, fresh_database(Path(tmp), "bench") as url:
            setup("PostgreSQL, 2 processes", url, 2, args)


if __name__ == "__main__":
    main()
