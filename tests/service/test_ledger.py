"""The tamper-evident event ledger: appended with every stored event, its head from the API, and
``lineage-audit verify`` catching each way of editing the database by hand."""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from datetime import datetime, timezone

import pytest
from sqlalchemy import select, text

from lineage_audit import cli
from lineage_audit.service import ledger
from lineage_audit.service.db import event_ledger, lineage_events, make_engine
from lineage_audit.service.ledger_cli import parse_expected, run_verify
from tests.service.test_ingest import dataset, run_event

URL = "/api/v1/lineage"


def _events(count: int) -> list[dict]:
    """``count`` run events of a few jobs, each with an input and an output."""
    out = []
    for n in range(count):
        run_id = str(uuid.UUID(int=n + 1))
        out.append(run_event("COMPLETE", n, run_id=run_id, job=f"job_{n % 3}",
                             inputs=[dataset(f"raw_{n}")], outputs=[dataset(f"table_{n % 3}")]))
    return out


def _verify(url: str, expected: tuple[int, str] | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = run_verify(url, expected, out=out, err=out)
    return code, out.getvalue()


@pytest.fixture
def sealed(service, database_url):
    """A store holding 6 events (one batch of 4, then 2 single ones), and an engine on it for tampering."""
    events = _events(6)
    assert service.post(URL, json=events[:4]).status_code == 201
    for event in events[4:]:
        assert service.post(URL, json=event).status_code == 201
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _rows(engine) -> list:
    with engine.connect() as conn:
        return conn.execute(select(event_ledger).order_by(event_ledger.c.position)).all()


def test_every_stored_event_is_chained_in_arrival_order(service, sealed, database_url):
    events = _events(6)
    service.post(URL, json=events[1])  # a duplicate is not appended twice
    entries = _rows(sealed)
    assert [e.position for e in entries] == [1, 2, 3, 4, 5, 6]
    with sealed.connect() as conn:
        stored = dict(conn.execute(select(lineage_events.c.event_hash, lineage_events.c.payload)).all())
    assert [json.loads(stored[e.event_hash])["run"]["runId"] for e in entries] == [
        str(uuid.UUID(int=n + 1)) for n in range(6)]
    previous = ledger.GENESIS
    for entry in entries:
        assert entry.previous_hash == previous
        header = f"{entry.position}\n{previous}\n{entry.appended_at}\n".encode()
        assert entry.entry_hash == hashlib.sha256(header + stored[entry.event_hash].encode()).hexdigest()
        previous = entry.entry_hash
    assert len({e.appended_at for e in entries[:4]}) == 1  # a batch is appended at once
    assert _verify(database_url) == (0, f"Ledger verified: 6 entries, head {previous} (sha256).\n")


def test_head_route_gives_length_and_hash_now_and_at_any_length(service, sealed):
    entries = _rows(sealed)
    head = service.get("/api/v1/audit/ledger").json()
    assert head == {"length": 6, "headHash": entries[-1].entry_hash, "algorithm": "sha256",
                    "lastAppendedAt": entries[-1].appended_at}
    assert service.get("/api/v1/audit/ledger", params={"length": 3}).json()["headHash"] == entries[2].entry_hash
    assert service.get("/api/v1/audit/ledger", params={"length": 0}).json()["headHash"] is None
    missing = service.get("/api/v1/audit/ledger", params={"length": 7})
    assert missing.status_code == 404 and "fewer than 7" in missing.json()["message"]
    assert service.get("/api/v1/audit/ledger", params={"length": -1}).status_code == 400


def test_empty_ledger(service, database_url):
    assert service.get("/api/v1/audit/ledger").json() == {"length": 0, "headHash": None, "algorithm": "sha256",
                                                          "lastAppendedAt": None}
    assert _verify(database_url) == (0, "Ledger verified: 0 entries, head (empty) (sha256).\n")


def _tamper(engine, statement: str, **params) -> None:
    with engine.begin() as conn:
        conn.execute(text(statement), params)


def _hash_at(engine, position: int) -> str:
    with engine.connect() as conn:
        return conn.execute(select(event_ledger.c.event_hash).where(event_ledger.c.position == position)).scalar_one()


def test_verify_catches_a_changed_event(sealed, database_url):
    event_hash = _hash_at(sealed, 3)
    _tamper(sealed, "UPDATE lineage_events SET payload = REPLACE(payload, 'table_2', 'table_9') WHERE event_hash = :h",
            h=event_hash)
    code, out = _verify(database_url)
    assert code == 1
    assert out.startswith("Ledger verification FAILED: entry 3: changed: the content of event ")
    assert "The chain holds up to entry 2 of 6." in out


def test_verify_catches_a_changed_event_time(sealed, database_url):
    """The indexed time (what ``asOf`` and the event lists filter on) must be the sealed event's own."""
    with sealed.begin() as conn:
        conn.execute(lineage_events.update().where(lineage_events.c.event_hash == _hash_at(sealed, 2))
                     .values(event_time=datetime(2020, 1, 1, tzinfo=timezone.utc)))
    code, out = _verify(database_url)
    assert code == 1 and "entry 2: changed: the stored time of event" in out


def test_verify_catches_an_edited_entry(sealed, database_url):
    _tamper(sealed, "UPDATE event_ledger SET appended_at = '2020-01-01T00:00:00.000000Z' WHERE position = 5")
    code, out = _verify(database_url)
    assert code == 1 and "entry 5: changed: the entry itself was edited" in out


def test_verify_catches_a_removed_event(sealed, database_url):
    _tamper(sealed, "DELETE FROM lineage_events WHERE event_hash = :h", h=_hash_at(sealed, 4))
    code, out = _verify(database_url)
    assert code == 1 and "entry 4: removed: the event it seals (" in out


def test_verify_catches_a_removed_entry(sealed, database_url):
    event_hash = _hash_at(sealed, 2)
    _tamper(sealed, "DELETE FROM event_ledger WHERE position = 2")
    _tamper(sealed, "DELETE FROM lineage_events WHERE event_hash = :h", h=event_hash)
    code, out = _verify(database_url)
    assert code == 1 and "entry 2: removed: there is no entry 2; the next one is entry 3" in out


def test_verify_catches_a_removal_hidden_by_renumbering(sealed, database_url):
    event_hash = _hash_at(sealed, 2)
    _tamper(sealed, "DELETE FROM event_ledger WHERE position = 2")
    _tamper(sealed, "DELETE FROM lineage_events WHERE event_hash = :h", h=event_hash)
    for position in range(3, 7):
        _tamper(sealed, "UPDATE event_ledger SET position = :p - 1 WHERE position = :p", p=position)
    code, out = _verify(database_url)
    assert code == 1 and "entry 2: removed: the entry it was chained to is gone" in out


def test_verify_catches_reordered_entries(sealed, database_url):
    _tamper(sealed, "UPDATE event_ledger SET position = 100 WHERE position = 3")
    _tamper(sealed, "UPDATE event_ledger SET position = 3 WHERE position = 4")
    _tamper(sealed, "UPDATE event_ledger SET position = 4 WHERE position = 100")
    code, out = _verify(database_url)
    assert code == 1 and "entry 3: reordered: it was appended after entry 4, which now follows it" in out


def _insert_event(engine, payload: str, event_time: str = "2026-03-01 12:00:30") -> str:
    digest = hashlib.sha256(payload.encode()).hexdigest()
    _tamper(engine, "INSERT INTO lineage_events (event_hash, event_kind, event_type, event_time, received_at, payload) "
                    "VALUES (:h, 'RunEvent', 'COMPLETE', :t, :t, :p)", h=digest, t=event_time, p=payload)
    return digest


def test_verify_catches_an_event_inserted_without_entry(sealed, database_url):
    payload = json.dumps(run_event("COMPLETE", 30, run_id=str(uuid.uuid4())), sort_keys=True, separators=(",", ":"))
    _insert_event(sealed, payload)
    code, out = _verify(database_url)
    assert code == 1 and "the store: inserted: event " in out and "is stored but no entry seals it" in out


def test_verify_catches_an_entry_inserted_with_a_forged_chain(sealed, database_url):
    """Whoever inserts an event and forges its entry (shifting the later ones) still breaks the next link."""
    payload = json.dumps(run_event("COMPLETE", 30, run_id=str(uuid.uuid4())), sort_keys=True, separators=(",", ":"))
    digest = _insert_event(sealed, payload)
    for position in range(6, 3, -1):
        _tamper(sealed, "UPDATE event_ledger SET position = :p + 1 WHERE position = :p", p=position)
    entries = {e.position: e for e in _rows(sealed)}
    forged = ledger.entry_hash(4, entries[3].entry_hash, entries[3].appended_at, payload)
    _tamper(sealed, "INSERT INTO event_ledger (position, event_hash, appended_at, previous_hash, entry_hash) "
                    "VALUES (4, :h, :a, :p, :e)", h=digest, a=entries[3].appended_at, p=entries[3].entry_hash,
            e=forged)
    code, out = _verify(database_url)
    assert code == 1
    assert "entry 4: inserted: the chain goes from entry 3 straight to entry 5: entries 4 to 4 were added later" in out


def test_a_noted_head_proves_nothing_before_it_changed(service, sealed, database_url):
    noted = service.get("/api/v1/audit/ledger", params={"length": 4}).json()
    expected = (4, noted["headHash"])
    assert _verify(database_url, expected)[0] == 0
    # whoever rewrites the chain from entry 2 on (consistently) passes the chain check, not the noted head
    entries = _rows(sealed)
    with sealed.connect() as conn:
        stored = dict(conn.execute(select(lineage_events.c.event_hash, lineage_events.c.payload)).all())
    previous = entries[0].entry_hash
    for entry in entries[1:]:
        forged = ledger.entry_hash(entry.position, previous, "2020-01-01T00:00:00.000000Z", stored[entry.event_hash])
        _tamper(sealed, "UPDATE event_ledger SET appended_at = '2020-01-01T00:00:00.000000Z', previous_hash = :p, "
                        "entry_hash = :e WHERE position = :n", p=previous, e=forged, n=entry.position)
        previous = forged
    assert _verify(database_url)[0] == 0
    forged_fourth = _rows(sealed)[3].entry_hash
    code, out = _verify(database_url, expected)
    assert code == 1
    assert f"entry 4: changed: its hash is {forged_fourth}, not the {noted['headHash']} noted" in out
    # and a ledger cut short of the noted length
    _tamper(sealed, "DELETE FROM event_ledger WHERE position > 2")
    _tamper(sealed, "DELETE FROM lineage_events WHERE event_hash NOT IN (SELECT event_hash FROM event_ledger)")
    code, out = _verify(database_url, expected)
    assert code == 1 and "entry 4: removed: the ledger has 2 entries, fewer than the 4 noted" in out


def test_migration_seals_events_stored_before_it(tmp_path):
    """A store from before the ledger (revision 0005): upgrading chains its events in the order they arrived."""
    from alembic import command
    from alembic.config import Config
    from pathlib import Path

    import lineage_audit.service.db as db

    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    config = Config()
    config.set_main_option("script_location", str(Path(db.__file__).with_name("migrations")))
    payloads = [json.dumps(run_event("COMPLETE", n, run_id=str(uuid.UUID(int=n + 1))), sort_keys=True,
                           separators=(",", ":")) for n in range(3)]
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0005")
        for n, payload in enumerate(payloads):
            conn.execute(text("INSERT INTO lineage_events (event_hash, event_kind, event_type, event_time, "
                              "received_at, payload) VALUES (:h, 'RunEvent', 'COMPLETE', :t, :t, :p)"),
                         {"h": hashlib.sha256(payload.encode()).hexdigest(), "p": payload,
                          "t": f"2026-03-01 12:00:0{n}.000000"})
    db.migrate(engine)
    entries = _rows(engine)
    assert [e.event_hash for e in entries] == [hashlib.sha256(p.encode()).hexdigest() for p in payloads]
    engine.dispose()
    assert _verify(url)[0] == 0


def test_cli_verify(sealed, database_url, capsys):
    assert cli.main(["verify", "--database-url", database_url]) == 0
    assert "Ledger verified: 6 entries" in capsys.readouterr().out
    assert cli.main(["verify", "--database-url", database_url, "--expect", "3:abc"]) == 2
    assert "--expect must be LENGTH:HASH" in capsys.readouterr().err
    _tamper(sealed, "DELETE FROM lineage_events WHERE event_hash = :h", h=_hash_at(sealed, 1))
    assert cli.main(["verify", "--database-url", database_url]) == 1
    assert "entry 1: removed" in capsys.readouterr().out


def test_cli_verify_without_a_store(tmp_path, capsys):
    assert cli.main(["verify", "--database-url", f"sqlite:///{tmp_path / 'none.db'}"]) == 2
    assert "no lineage store at" in capsys.readouterr().err
    assert not (tmp_path / "none.db").exists()


def test_parse_expected():
    assert parse_expected("12:" + "A" * 64) == (12, "a" * 64)
    with pytest.raises(ValueError):
        parse_expected("12")
