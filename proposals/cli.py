"""The ``engage`` command: serve, demo, migrate, remind, createadmin."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from proposals.calls.loader import ProfileError
from proposals.settings import Settings, SettingsError, load_settings

DEMO_DATABASE = "engage-demo.db"


def _migrate(settings: Settings) -> None:
    """Upgrade the schema, then store any shipped call profile not stored yet."""
    from proposals.calls import library
    from proposals.db import make_engine, make_sessionmaker, unit_of_work
    from proposals.migrate import current_revision, upgrade

    engine = make_engine(settings.database_url)
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    if before != after:
        print(f"Database migrated from {before or 'empty'} to {after}.", flush=True)
    with unit_of_work(make_sessionmaker(engine)) as session:
        added = library.sync_shipped(session)
    engine.dispose()
    if added:
        print(f"Call profiles stored: {', '.join(added)}.", flush=True)


def _log_to_console() -> None:
    """Show Engage's own log on the console from INFO (in development without SMTP: e-mails)."""
    logger = logging.getLogger("engage")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:  %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _serve(settings: Settings, host: str, port: int, demo_accounts: list[dict[str, str]]) -> None:
    import uvicorn

    from proposals.app import create_app

    _log_to_console()
    app = create_app(settings, demo_accounts=demo_accounts)
    print(f"Engage is running at http://{host}:{port}/ (press Ctrl+C to stop)", flush=True)
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        # The same proxies Engage believes (proposals.web.clients.client_address).
        forwarded_allow_ips=",".join(settings.trusted_proxies),
        log_level="info",
        # Yjs updates are small and binary: compressing each costs more CPU than it saves.
        ws_per_message_deflate=False,
    )


def cmd_serve(args: argparse.Namespace) -> int:
    settings = load_settings()
    _migrate(settings)
    _serve(settings, args.host, args.port, [])
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from proposals import demo
    from proposals.db import make_engine, make_sessionmaker, unit_of_work

    started = time.perf_counter()
    path = Path(args.database)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    settings = load_settings({**os.environ, "DATABASE_URL": f"sqlite:///{path.resolve()}"})
    settings = replace(settings, demo=True, base_url=f"http://{args.host}:{args.port}")
    _migrate(settings)
    engine = make_engine(settings.database_url)
    with unit_of_work(make_sessionmaker(engine)) as session:
        accounts = demo.seed(session)
    engine.dispose()
    print(f"\nDemo data ready in {path} ({time.perf_counter() - started:.1f} s).")
    print(f"Every demo account's password is: {demo.DEMO_PASSWORD}")
    for account in accounts:
        print(f"  {account['email']:<22} {account['name']} - {account['who']}")
    print(flush=True)
    _serve(settings, args.host, args.port, accounts)
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    settings = load_settings()
    _migrate(settings)
    print("Database is up to date.")
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    from proposals.db import make_engine, make_sessionmaker, unit_of_work
    from proposals.domain import accounts
    from proposals.forms import FormErrors, validate

    settings = load_settings()
    _migrate(settings)
    password = os.environ.get("ENGAGE_ADMIN_PASSWORD", "")
    if not password:
        try:
            password = getpass.getpass("Password: ")
        except EOFError:
            print(
                "error: no password given: set ENGAGE_ADMIN_PASSWORD or run in a terminal",
                file=sys.stderr,
            )
            return 2
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            existing = accounts.find_user(session, args.email)
            if existing is not None:
                existing.is_admin = True
                print(f"{existing.email} is now an administrator.")
                return 0
            data = validate(
                accounts.SignupForm, {"name": args.name, "email": args.email, "password": password}
            )
            user = accounts.create_user(session, data, "en", is_admin=True)
            print(f"Administrator {user.email} created.")
    except FormErrors as exc:
        for field, message in exc.errors.items():
            print(f"error: {field}: {message}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    return 0


def cmd_remind(args: argparse.Namespace) -> int:
    """Reminders, digests and failed mail sent again; safe to run as often as a scheduler likes."""
    from datetime import date

    from proposals import mail
    from proposals.db import make_engine, make_sessionmaker, unit_of_work
    from proposals.domain import notifications, planning
    from proposals.live import Broker
    from proposals.templating import make_environment

    settings = load_settings()
    _migrate(settings)
    _log_to_console()
    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    templates = make_environment()
    today = date.fromisoformat(args.today) if args.today else date.today()
    try:
        with unit_of_work(factory) as session:
            ids = notifications.due_reminders(session, today)
            ids += planning.late_reminders(session, today)
        notifications.deliver(settings, factory, templates, Broker(engine), ids)
        digests = notifications.send_digests(settings, factory, templates)
        retried = mail.retry_due(settings, factory)
    finally:
        engine.dispose()
    print(f"Reminders: {len(ids)}. Digests: {digests}. Mail retried: {retried}.")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Write one export of a proposal to a file, and keep it in its export history."""
    from sqlalchemy import or_, select

    from proposals.db import make_engine, make_sessionmaker, unit_of_work
    from proposals.domain import consortium, exporting
    from proposals.errors import Invalid
    from proposals.models import Proposal

    settings = load_settings()
    _migrate(settings)
    engine = make_engine(settings.database_url)
    try:
        with unit_of_work(make_sessionmaker(engine)) as session:
            found = session.scalars(
                select(Proposal.public_id).where(
                    or_(Proposal.public_id == args.proposal, Proposal.acronym == args.proposal)
                )
            ).all()
            if len(found) != 1:
                what = "no proposal" if not found else f"{len(found)} proposals"
                print(f"engage: {what} with the id or acronym {args.proposal!r}", file=sys.stderr)
                return 1
            proposal = consortium.load_proposal(session, found[0], with_sections=True)
            assert proposal is not None
            partners = {p.public_id for p in proposal.partners if p.status == "active"}
            if args.kind == "declaration" and args.partner not in partners:
                print(
                    "engage: a declaration needs --partner, one of: " + ", ".join(sorted(partners)),
                    file=sys.stderr,
                )
                return 1
            try:
                row = exporting.export(session, proposal, None, args.kind, args.partner or None)
            except Invalid as exc:  # e.g. the call's Word template has gone from the server
                print(f"engage: nothing was exported: {exc.message}", file=sys.stderr)
                return 1
            target = Path(args.output or row.filename)
            target.write_bytes(row.content)
            print(f"{target} ({len(row.content)} bytes, sha256 {row.sha256})")
    finally:
        engine.dispose()
    return 0


def cmd_calls(args: argparse.Namespace) -> int:
    if args.action == "check":
        return _check_profiles(args.files)
    if args.files:
        print("engage calls: files are only read by 'engage calls check FILE...'", file=sys.stderr)
        return 2
    from proposals.calls import library
    from proposals.calls.standing import standing
    from proposals.db import make_engine, make_sessionmaker
    from proposals.models import utcnow

    settings = load_settings()
    _migrate(settings)
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as session:
        profiles = library.latest(session)
    engine.dispose()
    now = utcnow()
    rows = [
        ("ID", "VERSION", "STANDING", "VERIFIED", "FUNDER", "PROGRAMME", "CURRENCY", "LANGUAGE")
    ]
    rows += [
        (
            p.id,
            str(p.version),
            standing(p, now),
            p.verified_on.isoformat() if p.verified_on else "-",
            p.funder,
            p.programme,
            p.currency,
            ",".join(p.languages),
        )
        for p in profiles
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    return 0


def _check_profiles(files: list[str]) -> int:
    """Validate profile files; print every problem as FILE: PATH: REASON."""
    from proposals.calls.loader import MAX_PROFILE_BYTES, parse_profile

    if not files:
        print("engage calls check: name at least one profile file", file=sys.stderr)
        return 2
    failed = 0
    for name in files:
        try:
            with Path(name).open("rb") as fh:
                profile = parse_profile(fh.read(MAX_PROFILE_BYTES + 1))
        except OSError as exc:
            print(f"{name}: cannot read: {exc.strerror or exc}")
            failed += 1
        except ProfileError as exc:
            for problem in exc.problems:
                print(f"{name}: {problem}")
            failed += 1
        else:
            print(f"{name}: ok ({profile.id} v{profile.version})")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="engage", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate the database, then serve Engage")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(func=cmd_serve)

    demo = sub.add_parser("demo", help="serve Engage on a fresh database with demo data")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.add_argument("--database", default=DEMO_DATABASE, help="SQLite file (recreated)")
    demo.set_defaults(func=cmd_demo)

    migrate = sub.add_parser("migrate", help="create or upgrade the database schema")
    migrate.set_defaults(func=cmd_migrate)

    calls = sub.add_parser("calls", help="list the call profiles, or check profile files")
    calls.add_argument("action", nargs="?", choices=["list", "check"], default="list")
    calls.add_argument("files", nargs="*", metavar="FILE")
    calls.set_defaults(func=cmd_calls)

    remind = sub.add_parser(
        "remind", help="send reminders and daily digests, retry failed mail (run by a scheduler)"
    )
    remind.add_argument("--today", default="", help="the date to remind for (YYYY-MM-DD)")
    remind.set_defaults(func=cmd_remind)

    export = sub.add_parser(
        "export", help="write a proposal's application, declaration or package to a file"
    )
    export.add_argument("proposal", help="the proposal's id (as in its address) or acronym")
    export.add_argument(
        "--kind", choices=["application", "declaration", "package"], default="application"
    )
    export.add_argument("--partner", default="", help="the partner's id, for a declaration")
    export.add_argument("--output", default="", help="file to write (default: the export's name)")
    export.set_defaults(func=cmd_export)

    admin = sub.add_parser("createadmin", help="create a platform administrator")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", default="Administrator")
    admin.set_defaults(func=cmd_createadmin)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SettingsError as exc:
        print(f"engage: {exc}", file=sys.stderr)
        return 2
    except ProfileError as exc:
        for problem in exc.problems:
            print(f"engage: call profile {problem}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
