"""The lineage store: tables (SQLAlchemy Core), engines for SQLite and PostgreSQL, migrations.

Every event is kept as received (``lineage_events``) next to the model derived from it. The model
is what Marquez's API answers from: namespaces, sources, jobs and their versions, runs and their
states, datasets and their versions with fields, the current job <-> dataset edges (``job_io``)
and field-level lineage (``field_lineage``). Facets are kept per owner and name with the time of the
event that carried them, so that the newest wins whatever order events arrive in.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    false,
)
from sqlalchemy.engine import Engine

NAME = String(1024)
UUID = String(36)
metadata = MetaData()

lineage_events = Table(
    "lineage_events", metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_hash", String(64), nullable=False, unique=True),  # sha256 of the canonical JSON
    Column("event_kind", String(16), nullable=False),  # RunEvent, DatasetEvent, JobEvent
    Column("event_type", String(16)),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("run_uuid", UUID),
    Column("job_namespace", NAME),
    Column("job_name", NAME),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("payload", Text, nullable=False),
    Index("ix_lineage_events_event_time", "event_time"),
    Index("ix_lineage_events_received_at", "received_at"),
    Index("ix_lineage_events_run", "run_uuid"),
)

# The tamper-evident ledger: every stored event, in arrival order, chained by hash (see ledger.py). The times are
# kept as the exact text that was hashed, so that both backends give back the bytes the hash covers.
event_ledger = Table(
    "event_ledger", metadata,
    Column("position", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("event_hash", String(64), nullable=False),  # lineage_events.event_hash of the event it seals
    Column("appended_at", String(32), nullable=False),
    Column("previous_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
)  # no index but the position: appends stay cheap, and only `verify` (rare, whole-ledger) joins on the hash

namespaces = Table(
    "namespaces", metadata,
    Column("name", NAME, primary_key=True),
    Column("owner_name", String(256), nullable=False, default="anonymous"),
    Column("description", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("is_hidden", Boolean, nullable=False, default=False, server_default=false()),  # soft deleted
)

sources = Table(
    "sources", metadata,
    Column("name", NAME, primary_key=True),
    Column("type", String(64), nullable=False),
    Column("connection_url", Text),
    Column("description", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

jobs = Table(
    "jobs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("namespace", NAME, ForeignKey("namespaces.name"), nullable=False),
    Column("name", NAME, nullable=False),  # fully qualified, as Marquez names it
    Column("simple_name", NAME, nullable=False),
    Column("parent_job_name", NAME),
    Column("type", String(16), nullable=False, default="BATCH"),
    Column("location", Text),
    Column("description", Text),
    Column("current_version", UUID),
    Column("latest_run_uuid", UUID),
    Column("latest_run_time", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("is_hidden", Boolean, nullable=False, default=False, server_default=false()),  # soft deleted
    UniqueConstraint("namespace", "name", name="uq_jobs_namespace_name"),
)

job_versions = Table(
    "job_versions", metadata,
    Column("uuid", UUID, primary_key=True),
    Column("job_id", Integer, ForeignKey("jobs.id"), nullable=False),
    Column("location", Text),
    Column("inputs", JSON, nullable=False),  # [[namespace, name], ...]
    Column("outputs", JSON, nullable=False),
    Column("latest_run_uuid", UUID),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_job_versions_job", "job_id"),
)

runs = Table(
    "runs", metadata,
    Column("uuid", UUID, primary_key=True),
    Column("job_id", Integer, ForeignKey("jobs.id"), nullable=False),
    Column("job_version_uuid", UUID),
    Column("parent_run_uuid", UUID),
    Column("state", String(16), nullable=False),  # NEW RUNNING COMPLETED FAILED ABORTED
    Column("state_rank", Integer, nullable=False),  # see events.STATE_RANK: decides order-independently
    Column("state_time", DateTime(timezone=True), nullable=False),  # eventTime of the deciding event
    Column("started_at", DateTime(timezone=True)),
    Column("ended_at", DateTime(timezone=True)),
    Column("nominal_start_time", DateTime(timezone=True)),
    Column("nominal_end_time", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("args", JSON),  # a run made by Marquez's older API (POST .../runs) may have arguments
    Index("ix_runs_job_created", "job_id", "created_at"),
    Index("ix_runs_parent", "parent_run_uuid"),
    Index("ix_runs_state_updated", "state", "updated_at"),
)

datasets = Table(
    "datasets", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("namespace", NAME, ForeignKey("namespaces.name"), nullable=False),
    Column("name", NAME, nullable=False),
    Column("source_name", NAME, nullable=False),
    Column("type", String(16), nullable=False, default="DB_TABLE"),
    Column("description", Text),
    Column("current_version", UUID),
    Column("current_version_time", DateTime(timezone=True)),
    Column("last_modified_at", DateTime(timezone=True)),
    Column("last_lifecycle_state", String(32)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("is_hidden", Boolean, nullable=False, default=False, server_default=false()),  # soft deleted
    UniqueConstraint("namespace", "name", name="uq_datasets_namespace_name"),
)

dataset_versions = Table(
    "dataset_versions", metadata,
    Column("uuid", UUID, primary_key=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id"), nullable=False),
    Column("run_uuid", UUID),  # the run that produced it
    # RUN: a run's output; EVENT: a DatasetEvent; READ: made by the runs that read a dataset without a version
    Column("origin", String(8), nullable=False, server_default="RUN"),
    Column("fields", JSON, nullable=False),  # [{"name", "type", "description"}]
    Column("lifecycle_state", String(32)),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_dataset_versions_dataset", "dataset_id", "event_time"),
    Index("ix_dataset_versions_run", "run_uuid"),
)

dataset_fields = Table(
    "dataset_fields", metadata,
    Column("dataset_id", Integer, ForeignKey("datasets.id"), primary_key=True),
    Column("name", NAME, primary_key=True),
    Column("type", String(256)),
    Column("description", Text),
    Column("position", Integer, nullable=False, default=0),
    Index("ix_dataset_fields_position", "dataset_id", "position"),  # fields in schema order (lineage graphs)
)

run_io = Table(
    "run_io", metadata,
    Column("run_uuid", UUID, primary_key=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id"), primary_key=True),
    Column("direction", String(6), primary_key=True),  # INPUT / OUTPUT
    Column("dataset_version_uuid", UUID),
    Index("ix_run_io_dataset", "dataset_id"),
)

# The current lineage graph: each job's inputs and outputs as of its latest run.
job_io = Table(
    "job_io", metadata,
    Column("job_id", Integer, ForeignKey("jobs.id"), primary_key=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id"), primary_key=True),
    Column("direction", String(6), primary_key=True),
    Index("ix_job_io_dataset", "dataset_id", "direction"),
)

# The other names of a dataset (its ``symlinks`` facet's identifiers), as Marquez keeps them: a name no dataset
# had when a dataset first declared it; events that name it later belong to that dataset.
dataset_symlinks = Table(
    "dataset_symlinks", metadata,
    Column("name", NAME, primary_key=True),  # first: looked up by name
    Column("namespace", NAME, primary_key=True),
    Column("dataset_id", Integer, ForeignKey("datasets.id"), nullable=False),
    Column("type", String(64)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_dataset_symlinks_dataset", "dataset_id"),
)

# The current column lineage of each output field (empty output_field: the dataset-level dependencies).
field_lineage = Table(
    "field_lineage", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("output_dataset_id", Integer, ForeignKey("datasets.id"), nullable=False),
    Column("output_field", NAME, nullable=False),
    Column("input_dataset_id", Integer, ForeignKey("datasets.id"), nullable=False),
    Column("input_field", NAME, nullable=False),
    Column("transformation_type", String(16)),
    Column("transformation_subtype", String(32)),
    Column("transformation_description", Text),
    Column("masking", Boolean, nullable=False, default=False),
    Column("dataset_version_uuid", UUID),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Index("ix_field_lineage_output", "output_dataset_id", "output_field"),
    Index("ix_field_lineage_input", "input_dataset_id", "input_field"),
)

# Facets of runs, jobs, datasets and dataset versions: the newest event's value of each facet wins.
facets = Table(
    "facets", metadata,
    Column("owner_kind", String(16), primary_key=True),  # run, job, dataset, dataset_version
    Column("owner_key", String(64), primary_key=True),
    Column("name", String(256), primary_key=True),
    Column("event_time", DateTime(timezone=True), nullable=False),
    Column("value", JSON, nullable=False),
)

tags = Table(
    "tags", metadata,
    Column("name", String(256), primary_key=True),
    Column("description", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

dataset_tags = Table(
    "dataset_tags", metadata,
    Column("dataset_id", Integer, ForeignKey("datasets.id"), primary_key=True),
    Column("field", NAME, primary_key=True),  # "" tags the dataset itself
    Column("tag", String(256), ForeignKey("tags.name"), primary_key=True),
)

job_tags = Table(
    "job_tags", metadata,
    Column("job_id", Integer, ForeignKey("jobs.id"), primary_key=True),
    Column("tag", String(256), ForeignKey("tags.name"), primary_key=True),
)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL: readers never block the writer; NORMAL sync keeps every commit across a process crash.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``: ``sqlite:///path`` (WAL mode) or ``postgresql+psycopg://...``."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False}, pool_size=8, max_overflow=8)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
