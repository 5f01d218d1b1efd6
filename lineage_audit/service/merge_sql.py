"""The SQL of the merge: plain statements that SQLite (3.35+) and PostgreSQL both run (upserts,
RETURNING, row values), executed on the DB-API cursor of a SQLAlchemy connection, so that a batch
costs a few statements per table instead of a statement object compiled per row.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import lru_cache
from typing import Any, Iterable, Mapping


_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")
CHUNK = 400  # values per IN list or multi-row VALUES: under SQLite's oldest limit of 999 parameters


class Sql:
    """What differs between SQLite and PostgreSQL on the DB-API level: parameters and timestamps."""

    def __init__(self, dialect: str):
        self.postgres = dialect == "postgresql"

    @lru_cache(maxsize=1024)
    def __call__(self, text: str) -> str:
        """SQL written with ``:name`` parameters, in the driver's style (psycopg: ``%(name)s``)."""
        return _PARAM.sub(r"%(\1)s", text) if self.postgres else text

    def time(self, value: datetime) -> Any:
        """A UTC timestamp as the store holds it: SQLite keeps SQLAlchemy's text form, which sorts."""
        if self.postgres:
            return value
        return (f"{value.year:04d}-{value.month:02d}-{value.day:02d} {value.hour:02d}:{value.minute:02d}:"
                f"{value.second:02d}.{value.microsecond:06d}")

    @staticmethod
    def loads(value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value



def insert_values(sql: Sql, cursor: Any, table: str, rows: list[dict[str, Any]], tail: str) -> list[tuple]:
    """``INSERT INTO table (...) VALUES (...), (...) <tail>`` in chunks; returns what RETURNING gives."""
    if not rows:
        return []
    columns = list(rows[0])
    per = max(1, CHUNK // len(columns))
    found: list[tuple] = []
    for start in range(0, len(rows), per):
        chunk = rows[start:start + per]
        params: dict[str, Any] = {}
        values = []
        for number, row in enumerate(chunk):
            names = []
            for column in columns:
                params[f"{column}_{number}"] = row[column]
                names.append(f":{column}_{number}")
            values.append(f"({', '.join(names)})")
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join(values)} {tail}"
        found += run_statement(sql, cursor, statement, params)
    return found


def select_in(sql: Sql, cursor: Any, statement: str, values: Iterable[Any], extra: Mapping[str, Any] | None = None
               ) -> list[tuple]:
    """Run ``statement`` (holding ``{in}``, a parameter list) over ``values`` in chunks."""
    values = list(values)
    found: list[tuple] = []
    for start in range(0, len(values), CHUNK):
        chunk = values[start:start + CHUNK]
        params = {f"in_{n}": v for n, v in enumerate(chunk)}
        params.update(extra or {})
        text = statement.replace("{in}", "(" + ", ".join(f":in_{n}" for n in range(len(chunk))) + ")")
        found += run_statement(sql, cursor, text, params)
    return found


def cursor_for(sql: Sql, cursor: Any) -> Any:
    """The cursor for one more statement: in psycopg's pipeline mode, a cursor of its own, so that results
    of statements still in the pipe never stand in for the results of the one read next."""
    return cursor.connection.cursor() if sql.postgres else cursor


def run_statement(sql: Sql, cursor: Any, statement: str, params: Mapping[str, Any]) -> list[tuple]:
    cursor = cursor_for(sql, cursor)
    cursor.execute(sql(statement) if sql.postgres else statement, params)
    return cursor.fetchall() if _returns_rows(statement) else []


def _returns_rows(statement: str) -> bool:
    """Whether a statement returns rows (in psycopg's pipeline mode the cursor cannot tell before a sync)."""
    return statement.startswith("SELECT") or " RETURNING " in statement


_NEWER_STATE = ("(excluded.state_rank, excluded.state_time, excluded.state) > "
                "(runs.state_rank, runs.state_time, runs.state)")
_EARLIER = "CASE WHEN excluded.{c} < {t}.{c} THEN excluded.{c} ELSE {t}.{c} END"
_LATER = "CASE WHEN excluded.{c} > {t}.{c} THEN excluded.{c} ELSE {t}.{c} END"


def _span_set(table: str) -> str:
    return (f"created_at = {_EARLIER.format(c='created_at', t=table)}, "
            f"updated_at = {_LATER.format(c='updated_at', t=table)}")


# From when a written version (SQL on a dataset_versions row ``v``) is its dataset's current one, as Marquez moves
# the current version: a DatasetEvent's from its event, a run's output from the run's completion (a streaming
# job's from its first event, while it runs); NULL while it is none (its writer runs, failed or was aborted).
CURRENT_FROM = ("(CASE WHEN v.origin = 'EVENT' THEN v.event_time WHEN v.origin = 'RUN' THEN (SELECT CASE WHEN "
                "r.state = 'COMPLETED' THEN r.ended_at ELSE v.created_at END FROM runs r JOIN jobs j ON j.id = r.job_id "
                "WHERE r.uuid = v.run_uuid AND (r.state = 'COMPLETED' OR (r.state = 'RUNNING' AND j.type = 'STREAM'))) "
                "END)")


STATEMENTS = {
    "namespace": "INSERT INTO namespaces (name, owner_name, description, created_at, updated_at) "
                 "VALUES (:name, 'anonymous', NULL, :first, :last) ON CONFLICT (name) DO UPDATE SET "
                 + _span_set("namespaces") + ", is_hidden = FALSE"  # an event naming it undeletes it, as in Marquez
                 " WHERE excluded.created_at < namespaces.created_at OR excluded.updated_at > namespaces.updated_at"
                 " OR namespaces.is_hidden",
    "source": "INSERT INTO sources (name, type, connection_url, description, created_at, updated_at) "
              "VALUES (:name, :type, :url, NULL, :first, :last) ON CONFLICT (name) DO UPDATE SET "
              "type = CASE WHEN excluded.updated_at >= sources.updated_at THEN excluded.type ELSE sources.type END, "
              "connection_url = CASE WHEN excluded.updated_at >= sources.updated_at THEN excluded.connection_url "
              "ELSE sources.connection_url END, " + _span_set("sources") +
              " WHERE excluded.created_at < sources.created_at OR excluded.updated_at >= sources.updated_at",
    "datasets": "ON CONFLICT (namespace, name) DO UPDATE SET " + _span_set("datasets") + ", is_hidden = FALSE"
                " RETURNING id, namespace, name, source_name, description",
    "jobs": "ON CONFLICT (namespace, name) DO UPDATE SET " + _span_set("jobs") + ", is_hidden = FALSE"
            ", parent_job_name = COALESCE(jobs.parent_job_name, excluded.parent_job_name)"
            " RETURNING id, namespace, name, type, location, description",
    "facet": "INSERT INTO facets (owner_kind, owner_key, name, event_time, value) "
             "VALUES (:kind, :key, :name, :time, :value) ON CONFLICT (owner_kind, owner_key, name) DO UPDATE SET "
             "event_time = excluded.event_time, value = excluded.value WHERE facets.event_time <= excluded.event_time",
    "facet_set": "INSERT INTO facets (owner_kind, owner_key, name, event_time, value) "
                 "VALUES (:kind, :key, :name, :time, :value) ON CONFLICT (owner_kind, owner_key, name) DO UPDATE SET "
                 "event_time = excluded.event_time, value = excluded.value",
    "runs": "ON CONFLICT (uuid) DO UPDATE SET "
            + ", ".join(f"{c} = CASE WHEN {_NEWER_STATE} THEN excluded.{c} ELSE runs.{c} END"
                        for c in ("state", "state_rank", "state_time", "ended_at")) + ", "
            "started_at = CASE WHEN runs.started_at IS NULL THEN excluded.started_at ELSE "
            + _EARLIER.format(c="started_at", t="runs") + " END, " + _span_set("runs") + ", "
            "parent_run_uuid = COALESCE(runs.parent_run_uuid, excluded.parent_run_uuid), "
            "nominal_start_time = CASE WHEN excluded.nominal_start_time IS NULL THEN runs.nominal_start_time "
            "ELSE excluded.nominal_start_time END, "
            "nominal_end_time = CASE WHEN excluded.nominal_start_time IS NULL THEN runs.nominal_end_time "
            "ELSE excluded.nominal_end_time END "
            "RETURNING uuid, job_id, state, state_time, job_version_uuid",
    "run_io": "INSERT INTO run_io (run_uuid, dataset_id, direction, dataset_version_uuid) "
              "VALUES (:run, :dataset, :direction, :version) ON CONFLICT (run_uuid, dataset_id, direction) DO NOTHING",
    "version": "INSERT INTO dataset_versions (uuid, dataset_id, run_uuid, origin, fields, lifecycle_state, event_time, "
               "created_at) VALUES (:uuid, :dataset, :run, :origin, :fields, :lifecycle, :last, :first) "
               "ON CONFLICT (uuid) DO UPDATE SET "
               "event_time = " + _LATER.format(c="event_time", t="dataset_versions") + ", "
               "created_at = " + _EARLIER.format(c="created_at", t="dataset_versions") + ", "
               "fields = CASE WHEN :fields_won THEN excluded.fields ELSE dataset_versions.fields END, "
               "lifecycle_state = CASE WHEN :lifecycle_won THEN excluded.lifecycle_state "
               "ELSE dataset_versions.lifecycle_state END",
    # the version the first readers of a dataset without a written version made: recomputed, not merged
    "read_version": "INSERT INTO dataset_versions (uuid, dataset_id, run_uuid, origin, fields, lifecycle_state, "
                    "event_time, created_at) VALUES (:uuid, :dataset, NULL, 'READ', :fields, NULL, :first, :first) "
                    "ON CONFLICT (uuid) DO UPDATE SET fields = excluded.fields, event_time = excluded.event_time, "
                    "created_at = excluded.created_at",
    # a dataset's current version: its newest version whose writer completed (or a DatasetEvent's), else the
    # version its first readers made
    "current_version": "UPDATE datasets SET " + ", ".join(
        f"{column} = (SELECT v.{source} FROM dataset_versions v WHERE v.dataset_id = datasets.id "
        f"AND (v.origin = 'READ' OR {CURRENT_FROM} IS NOT NULL) ORDER BY v.origin <> 'READ' DESC, "
        f"{CURRENT_FROM} DESC, v.uuid DESC LIMIT 1)"
        for column, source in (("current_version", "uuid"), ("current_version_time", "event_time"),
                               ("last_modified_at", "event_time"), ("last_lifecycle_state", "lifecycle_state")))
        + " WHERE id = :id",
    # a dataset whose current version says DROP (lifecycleStateChange) is deleted, as in Marquez; the datasets
    # upsert above undeletes what an event names, and this runs after it, so the newest version decides
    "dropped": "UPDATE datasets SET is_hidden = TRUE WHERE id = :id AND last_lifecycle_state = 'DROP'",
    # what a run read: the input's current version when the run started; NULL where there was none, for the
    # dataset's READ version to fill
    "input_versions": "UPDATE run_io SET dataset_version_uuid = (SELECT v.uuid FROM dataset_versions v "
                      f"WHERE v.dataset_id = run_io.dataset_id AND {CURRENT_FROM} <= "
                      "(SELECT r.started_at FROM runs r WHERE r.uuid = run_io.run_uuid) "
                      f"ORDER BY {CURRENT_FROM} DESC, v.uuid DESC LIMIT 1) WHERE run_io.direction = 'INPUT' AND ",
    "job_version": "INSERT INTO job_versions (uuid, job_id, location, inputs, outputs, latest_run_uuid, created_at, "
                   "updated_at) VALUES (:uuid, :job, :location, :inputs, :outputs, :run, :created, :updated) "
                   "ON CONFLICT (uuid) DO UPDATE SET latest_run_uuid = CASE WHEN "
                   "(excluded.updated_at, excluded.latest_run_uuid) > (job_versions.updated_at, "
                   "job_versions.latest_run_uuid) THEN excluded.latest_run_uuid ELSE job_versions.latest_run_uuid END, "
                   + _span_set("job_versions"),
    # a version a JobEvent declared: no run, only its span
    "runless_job_version": "INSERT INTO job_versions (uuid, job_id, location, inputs, outputs, latest_run_uuid, "
                           "created_at, updated_at) VALUES (:uuid, :job, :location, :inputs, :outputs, NULL, :created, "
                           ":updated) ON CONFLICT (uuid) DO UPDATE SET " + _span_set("job_versions"),
    # a job's latest run is its newest, its current version the one of its newest finished run
    "job_latest": "UPDATE jobs SET " + ", ".join(
        f"{column} = (SELECT r.{source} FROM runs r WHERE r.job_id = jobs.id{condition} "
        "ORDER BY r.created_at DESC, r.uuid DESC LIMIT 1)"
        for column, source, condition in (("latest_run_uuid", "uuid", ""), ("latest_run_time", "updated_at", ""),
                                          ("current_version", "job_version_uuid",
                                           " AND r.job_version_uuid IS NOT NULL")))
        + " WHERE id = :id",
}
