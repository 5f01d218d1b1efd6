"""Which capture runs: the official OpenLineage Spark listener (the default) or the built-in one.

``LINEAGE_AUDIT_CAPTURE`` chooses: ``official``, ``builtin``, or ``auto`` (the default: official
when its JAR has been fetched, built-in otherwise). Never both at once. ``none`` installs no
listener at all (what the capture benchmark measures against); Delta stays on where its JARs are. The same choice decides
the Spark properties a session is built with (:func:`spark_properties`): the JARs, the listener,
Delta's extension and catalog, and the ``spark.openlineage.*`` keys from ``conf/openlineage.yml``.

>>> choose({"LINEAGE_AUDIT_CAPTURE": "builtin"}, jars=None).mode
'builtin'
>>> choose({"LINEAGE_AUDIT_CAPTURE": "official"}, jars=None).reason
'the OpenLineage Spark listener JAR is not fetched (make jars)'
>>> none = choose({"LINEAGE_AUDIT_CAPTURE": "none"}, jars=None)
>>> none.mode, none.enabled, none.official
('none', False, False)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from lineage_audit import jars as jar_files
from lineage_audit.config import PROJECT_ROOT
from lineage_audit.capture.settings import PREFIX, CaptureSettings, file_properties

CAPTURE_ENV = "LINEAGE_AUDIT_CAPTURE"
MODES = ("auto", "official", "builtin", "none")
# Keys a session built without the fetched JARs must not carry: they would name missing classes.
JAR_KEYS = ("spark.jars", "spark.sql.extensions", "spark.sql.catalog.spark_catalog")


class CaptureChoiceError(ValueError):
    """LINEAGE_AUDIT_CAPTURE holds something other than auto, official, builtin or none."""


@dataclass(frozen=True)
class CaptureChoice:
    mode: str  # "official", "builtin" or "none"
    jars: jar_files.Jars | None
    reason: str | None = None  # why the official listener is not used, when it was asked for or expected

    @property
    def enabled(self) -> bool:
        """False for ``none``: sessions get no listener, neither the official nor the built-in one."""
        return self.mode != "none"

    @property
    def official(self) -> bool:
        return self.mode == "official"

    @property
    def delta(self) -> bool:
        return self.jars is not None and self.jars.delta


def choose(env: Mapping[str, str], jars: jar_files.Jars | None | str = "installed") -> CaptureChoice:
    """Resolve the capture from the environment and the fetched JARs.

    >>> fetched = jar_files.Jars(Path(".jars"), ("openlineage-spark_2.13-1.53.0.jar",))
    >>> choose({}, jars=fetched).mode, choose({CAPTURE_ENV: "builtin"}, jars=fetched).mode
    ('official', 'builtin')
    """
    asked = (env.get(CAPTURE_ENV) or "auto").strip().lower()
    if asked not in MODES:
        raise CaptureChoiceError(f"{CAPTURE_ENV}={asked!r}: choose one of {', '.join(MODES)}")
    found = jar_files.installed() if jars == "installed" else jars
    if asked in ("builtin", "none"):
        return CaptureChoice(asked, found)
    if found is None or not found.listener:
        why = "the OpenLineage Spark listener JAR is not fetched (make jars)"
        return CaptureChoice("builtin", found, why)
    return CaptureChoice("official", found)


def describe(choice: CaptureChoice) -> str:
    """One line for reports: which capture runs, and why when it is not the one expected."""
    if choice.mode == "official":
        return f"the official OpenLineage Spark listener ({jar_files.OPENLINEAGE_ARTIFACT})"
    if choice.mode == "builtin":
        return "the built-in capture" + (f" ({choice.reason})" if choice.reason else "")
    return "none (LINEAGE_AUDIT_CAPTURE=none)"


def _without_listener(listeners: str) -> str:
    kept = [name.strip() for name in listeners.split(",") if name.strip() and name.strip() != jar_files.LISTENER_CLASS]
    return ",".join(kept)


def _fetched(entry: str) -> bool:
    """Whether a ``spark.jars`` entry names the fetched folder (``.jars/*.jar`` in spark-defaults.conf)."""
    path = Path(entry.removeprefix("file:"))
    path = path if path.is_absolute() else PROJECT_ROOT / path
    return path.parent == jar_files.jars_dir()


def spark_properties(props: Mapping[str, str], choice: CaptureChoice, capture: bool,
                     journal: Path | None, table_format: str = "parquet") -> dict[str, str]:
    """``props`` adjusted to the choice: what ``build_session`` hands to the builder.

    Without JARs the keys naming their classes go; with them, ``spark.jars`` lists the files by
    absolute path (a glob would not reach executors). The official listener gets the
    ``conf/openlineage.yml`` keys that the properties do not set, and writes to ``journal``, from
    which the session's forwarder sends each event on (see ``journal.py``).

    Delta's extension and catalog are set wherever they cost no lineage: always, except under the
    official listener with Parquet tables. There openlineage-spark (1.53.0) drops every write whose
    plan is adaptive once it sees the Delta extension (its AdaptivePlanEventFilter), which would
    lose most Parquet writes; Delta writes are reported, so with ``table_format="delta"`` it is on.
    """
    out = dict(props)
    listeners = _without_listener(out.get("spark.extraListeners", ""))
    if choice.jars is None:
        for key in JAR_KEYS:
            out.pop(key, None)
    else:
        extra = [j.strip() for j in out.get("spark.jars", "").split(",") if j.strip() and not _fetched(j)]
        ours = choice.jars.spark_jars(listener=capture and choice.official)
        out["spark.jars"] = ",".join(extra + [ours]) if ours else ",".join(extra)
        if not out["spark.jars"]:
            out.pop("spark.jars")
        official_parquet = capture and choice.official and table_format != "delta"
        if choice.delta and not official_parquet:
            out.setdefault("spark.sql.extensions", jar_files.DELTA_EXTENSION)
            out.setdefault("spark.sql.catalog.spark_catalog", jar_files.DELTA_CATALOG)
        elif out.get("spark.sql.extensions") == jar_files.DELTA_EXTENSION:
            out.pop("spark.sql.extensions")
            if out.get("spark.sql.catalog.spark_catalog") == jar_files.DELTA_CATALOG:
                out.pop("spark.sql.catalog.spark_catalog")
    if capture and choice.official:
        listeners = ",".join(filter(None, [listeners, jar_files.LISTENER_CLASS]))
        for key, value in file_properties().items():
            out.setdefault(key, value)
        if journal is not None:
            for key in [k for k in out if k.startswith(PREFIX + "transport.")]:
                del out[key]
            out[PREFIX + "transport.type"] = "file"
            out[PREFIX + "transport.location"] = str(journal)
    if listeners:
        out["spark.extraListeners"] = listeners
    else:
        out.pop("spark.extraListeners", None)
    return out


def start_forwarder(session, journal: Path, settings: CaptureSettings) -> None:
    """Forward what the official listener of ``session`` writes to ``journal`` (see ``journal.py``).

    A failure is logged: lineage must never be the reason a job fails.
    """
    from lineage_audit.capture.emitter import Emitter
    from lineage_audit.capture.journal import JournalForwarder

    try:
        JournalForwarder(journal, Emitter(settings.transport, settings.spool_dir)).start(session)
    except Exception as exc:
        logging.getLogger(__name__).warning("lineage forwarding could not start: %s", exc)
