"""History that grows with the edits, not edits x length: packed revisions read back exactly,
1,000 saves of a 10,000-character section stay under 2 MB, the migration converts old rows."""

from __future__ import annotations

import random
import zlib

from alembic import command
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from proposals import packing
from proposals.db import make_engine, make_sessionmaker
from proposals.domain import sections
from proposals.migrate import alembic_config, upgrade
from proposals.models import LiveUpdate, Proposal, Revision, Section, User

SAVES = 1000


def prose(rng: random.Random, sentences: int) -> list[str]:
    """Sentences of made-up words: text that zlib alone cannot shrink much."""
    letters = "abcdefghijklmnoprstuwyząęółżź"

    def word() -> str:
        return "".join(rng.choice(letters) for _ in range(rng.randint(2, 9)))

    return [
        " ".join(word() for _ in range(rng.randint(8, 16))).capitalize() + "."
        for _ in range(sentences)
    ]


def test_pack_round_trips_with_and_without_a_keyframe():
    rng = random.Random(3)
    base = " ".join(prose(rng, 100))
    for text_ in ("", "ąę 🙂", base, base.replace(".", "!", 3), base * 8):
        assert packing.unpack(packing.pack(text_)) == text_
        assert packing.unpack(packing.pack(text_, base), base) == text_
    edited = base[:500] + " A new sentence here." + base[500:]
    assert len(packing.pack(edited, base)) < 200 < len(zlib.compress(edited.encode())) // 10
    update = bytes(range(256)) * 4
    assert packing.unpack_update(packing.pack_update(update)) == update
    assert packing.unpack_update(b"\x00\x00") == b"\x00\x00"  # the empty update as it is


def _section(session: Session) -> tuple[int, int]:
    user = User(email="ewa@example.org", name="Ewa", password_hash="x")
    proposal = Proposal(title="Growth", call_id="demo", call_version=1)
    proposal.sections.append(Section(key="one", title="One", status="drafting"))
    session.add_all([user, proposal])
    session.flush()
    return proposal.sections[0].id, user.id


def test_a_thousand_saves_of_a_long_section_take_under_2_mb_and_read_back(tmp_path):
    path = tmp_path / "growth.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
        factory = make_sessionmaker(engine)
        with factory() as session, session.begin():
            section_id, user_id = _section(session)
        rng = random.Random(18)
        sentences = prose(rng, 200)
        while len(" ".join(sentences)) > 10_000:
            sentences.pop()
        with engine.connect() as connection:
            connection.execute(text("VACUUM"))
        before = path.stat().st_size
        saved: list[str] = []
        base = 0
        for _n in range(SAVES):
            sentences[rng.randrange(len(sentences))] = prose(rng, 1)[0]
            saved.append(" ".join(sentences))
            base = sections.save(factory, section_id, user_id, saved[-1], base).number
        with engine.connect() as connection:
            connection.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            connection.execute(text("VACUUM"))
        growth = path.stat().st_size - before
        assert 9_000 < len(saved[0]) <= 10_000
        assert growth < 2_000_000, growth
        with factory() as session:
            texts = sections.revision_texts(session, section_id)
            assert [texts[n + 1] for n in range(SAVES)] == saved
            one = session.scalar(
                select(Revision).where(Revision.section_id == section_id, Revision.number == 777)
            )
            assert one.text == saved[776] and one.summary == saved[776][:200]
            assert sections.revision_text(session, section_id, SAVES) == saved[-1]
            assert session.get(Section, section_id).text == saved[-1]
    finally:
        engine.dispose()


def test_the_migration_packs_old_rows_and_the_downgrade_unpacks_them(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    try:
        upgrade(engine, "0013")
        rng = random.Random(5)
        texts = [" ".join(prose(rng, 40))]
        for _ in range(30):
            texts.append(texts[-1] + " " + prose(rng, 1)[0])
        update = bytes(rng.randrange(4) for _ in range(3000))
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO user_account (id, email, name, password_hash, locale, timezone,"
                    " is_admin, is_mentor, email_notifications, created_at) VALUES (1, 'a@b.c',"
                    " 'A', 'x', 'en', 'UTC', 0, 0, 'each', '2025-01-01 00:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO proposal (id, public_id, title, call_id, call_version, status,"
                    " version, workflow_version, acronym, created_at, updated_at)"
                    " VALUES (1, 'p', 'P', 'demo', 1, 'drafting.writing', 1, 1, '',"
                    " '2025-01-01', '2025-01-01')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO section (id, public_id, proposal_id, key, title, guidance,"
                    " required, position, status, text, current_number, last_number, updated_at)"
                    " VALUES (1, 's', 1, 'k', 'K', '', 1, 0, 'drafting', :t, :n, :n,"
                    " '2025-01-01')"
                ),
                {"t": texts[-1], "n": len(texts)},
            )
            for number, body in enumerate(texts, start=1):
                connection.execute(
                    text(
                        "INSERT INTO revision (section_id, number, parent_number, text, kind,"
                        " author_id, created_at) VALUES (1, :n, :p, :t, 'save', 1, '2025-01-01')"
                    ),
                    {"n": number, "p": number - 1, "t": body},
                )
            connection.execute(
                text(
                    "INSERT INTO live_update (section_id, data, created_at)"
                    " VALUES (1, :d, '2025-01-01')"
                ),
                {"d": update},
            )
        upgrade(engine)
        with Session(engine) as session:
            assert sections.revision_texts(session, 1) == dict(enumerate(texts, start=1))
            assert session.scalar(select(LiveUpdate.data)) == update
            stored = session.execute(text("SELECT text, packed, basis FROM revision")).all()
            assert all(t == "" and p for t, p, _b in stored)
            assert sum(b is not None for _t, _p, b in stored) > 20  # deltas, not copies
            assert session.execute(text("SELECT data FROM live_update")).scalar() != update
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0013")
        with engine.connect() as connection:
            back = connection.execute(text("SELECT text FROM revision ORDER BY number")).scalars()
            assert list(back) == texts
            assert connection.execute(text("SELECT data FROM live_update")).scalar() == update
    finally:
        engine.dispose()
