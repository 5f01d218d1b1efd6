"""``lineage-audit verify``: recompute the event ledger's hash chain and say whether it holds.

Exit status: 0 when every entry holds (and the noted head, if one is given, is still there), 1 naming
the first entry that was changed, removed, reordered or inserted, 2 when the store cannot be read.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TextIO

from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from lineage_audit.service import ledger
from lineage_audit.service.db import make_engine

_NOTED_HEAD = re.compile(r"^(\d+):([0-9a-f]{64})$")


def parse_expected(text: str) -> tuple[int, str]:
    """``LENGTH:HASH`` as ``GET /api/v1/audit/ledger`` gives them (``length`` and ``headHash``)."""
    match = _NOTED_HEAD.match(text.strip().lower())
    if not match:
        raise ValueError(f"--expect must be LENGTH:HASH (a number, a colon, 64 hex digits), not {text!r}")
    return int(match.group(1)), match.group(2)


def _missing_store(url: str) -> str | None:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not Path(path).exists():
            return f"no lineage store at {path} (start the service once, or pass --database-url)"
    return None


def run_verify(database_url: str, expected: tuple[int, str] | None, out: TextIO | None = None,
               err: TextIO | None = None) -> int:
    out, err = out or sys.stdout, err or sys.stderr
    problem = _missing_store(database_url)
    if problem:
        print(f"lineage-audit verify: {problem}", file=err)
        return 2
    engine = make_engine(database_url)
    try:
        if not inspect(engine).has_table("event_ledger"):
            print("lineage-audit verify: this store has no ledger yet; start the service once to upgrade it",
                  file=err)
            return 2
        result = ledger.verify(engine, expected)
    except SQLAlchemyError as exc:
        print(f"lineage-audit verify: cannot read the store: {exc.__class__.__name__}: {exc}", file=err)
        return 2
    finally:
        engine.dispose()
    if result.ok:
        noted = f"; the noted head at {expected[0]} entries holds" if expected else ""
        print(f"Ledger verified: {result.length} entries, head {result.head_hash or '(empty)'} "
              f"({ledger.ALGORITHM}){noted}.", file=out)
        return 0
    print(f"Ledger verification FAILED: {result.finding}.", file=out)
    print(f"The chain holds up to entry {result.verified} of {result.length}.", file=out)
    return 1
