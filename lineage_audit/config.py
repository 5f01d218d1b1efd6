"""Project settings read from ``conf/``: table locations, formats and job thresholds.

Everything is resolved once, by the functions here, from three places in order of precedence:
environment variables, the files in ``conf/``, and built-in defaults. Nothing is written back into
``os.environ``.

>>> catalog = load_catalog(data_dir="/tmp/example")
>>> catalog.input("product_catalog").path
'/tmp/example/inputs/product_catalog'
>>> catalog.output("order_summary").format
'parquet'
>>> parse_properties("spark.master  local[2]\\n# comment\\nspark.ui.enabled false\\n")
{'spark.master': 'local[2]', 'spark.ui.enabled': 'false'}
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONF_DIR_ENV = "LINEAGE_AUDIT_CONF_DIR"
DATA_DIR_ENV = "LINEAGE_AUDIT_DATA_DIR"
FORMAT_ENV = "LINEAGE_AUDIT_TABLE_FORMAT"
SPARK_DEFAULTS = PROJECT_ROOT / "spark-defaults.conf"
SPARK_DEFAULTS_ENV = "LINEAGE_AUDIT_SPARK_DEFAULTS"


class ConfigError(ValueError):
    """A file in conf/ is missing, malformed or names something that does not exist."""


@dataclass(frozen=True)
class TableSpec:
    """Where one table lives and how it is stored."""

    name: str
    path: str
    format: str
    partition_by: tuple[str, ...] = ()
    options: Mapping[str, str] = field(default_factory=dict)
    job: str | None = None  # the job that writes it; None for a generated input


@dataclass(frozen=True)
class Catalog:
    """The tables of ``conf/tables.yml`` with their paths made absolute."""

    inputs: Mapping[str, TableSpec]
    outputs: Mapping[str, TableSpec]
    rejects_dir: str
    default_format: str
    root: str = ""

    @property
    def runs_dir(self) -> str:
        """Where each job leaves a JSON copy of its printed summary."""
        return f"{self.root}/runs"

    def input(self, name: str) -> TableSpec:
        return _lookup(self.inputs, name, "input")

    def output(self, name: str) -> TableSpec:
        return _lookup(self.outputs, name, "output")

    def table(self, name: str) -> TableSpec:
        """A table a job reads: a generated input, or the output another job writes."""
        if name in self.inputs:
            return self.inputs[name]
        return _lookup(self.outputs, name, "input or output")

    def rejects(self, source_table: str) -> TableSpec:
        """The quarantine table that collects the rejected rows of ``source_table``."""
        fmt = "delta" if self.default_format == "delta" else "parquet"
        return TableSpec(f"rejects_{source_table}", f"{self.rejects_dir}/{source_table}", fmt)


def _lookup(tables: Mapping[str, TableSpec], name: str, kind: str) -> TableSpec:
    try:
        return tables[name]
    except KeyError:
        known = ", ".join(sorted(tables))
        raise ConfigError(f"no {kind} table named {name!r} in conf/tables.yml (known: {known})") from None


def conf_dir() -> Path:
    return Path(os.environ.get(CONF_DIR_ENV, PROJECT_ROOT / "conf"))


def spark_defaults() -> Path:
    """``spark-defaults.conf`` at the repository root, or the file in LINEAGE_AUDIT_SPARK_DEFAULTS."""
    return Path(os.environ.get(SPARK_DEFAULTS_ENV, SPARK_DEFAULTS))


def parse_properties(text: str) -> dict[str, str]:
    """Parse Spark's properties-file format: ``key<whitespace>value``, ``#`` comments."""
    props = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key, *rest = line.split(None, 1)
        props[key] = rest[0].strip() if rest else ""
    return props


def default_data_dir() -> Path:
    return Path(os.environ.get(DATA_DIR_ENV, PROJECT_ROOT / "data"))


def _read_yaml(name: str) -> dict[str, Any]:
    path = conf_dir() / name
    try:
        content = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"missing configuration file {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(content, dict):
        raise ConfigError(f"{path} must hold a mapping at its top level")
    return content


def _absolute(path: str, root: Path) -> str:
    if "://" in path or Path(path).is_absolute():
        return path
    return str(root / path)


def _specs(section: Mapping[str, Any], root: Path, default_format: str) -> dict[str, TableSpec]:
    specs = {}
    for name, entry in (section or {}).items():
        if not isinstance(entry, dict) or "path" not in entry:
            raise ConfigError(f"table {name!r} in conf/tables.yml needs a 'path'")
        specs[name] = TableSpec(
            name=name,
            path=_absolute(str(entry["path"]), root),
            format=str(entry.get("format", default_format)),
            partition_by=tuple(entry.get("partition_by", ())),
            options=dict(entry.get("options", {})),
            job=str(entry["job"]) if entry.get("job") else None,
        )
    return specs


def table_format() -> str:
    """The default output format: LINEAGE_AUDIT_TABLE_FORMAT, else ``format`` in conf/tables.yml."""
    return os.environ.get(FORMAT_ENV) or str(_read_yaml("tables.yml").get("format", "parquet"))


def load_catalog(data_dir: str | Path | None = None, table_format: str | None = None) -> Catalog:
    """Read ``conf/tables.yml``; arguments beat environment variables, which beat the file."""
    raw = _read_yaml("tables.yml")
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    fmt = table_format or os.environ.get(FORMAT_ENV) or str(raw.get("format", "parquet"))
    if fmt not in ("parquet", "delta"):
        raise ConfigError(f"table format must be 'parquet' or 'delta', not {fmt!r}")
    outputs = _specs(raw.get("outputs", {}), root, fmt)
    if fmt != "delta":
        # The Delta customer master only exists when Delta is the chosen format.
        outputs = {n: s for n, s in outputs.items() if s.format != "delta"}
    else:
        outputs = {n: replace(s, format="delta") if s.format == "parquet" else s for n, s in outputs.items()}
    return Catalog(
        inputs=_specs(raw.get("inputs", {}), root, "parquet"),
        outputs=outputs,
        rejects_dir=_absolute(str(raw.get("rejects_dir", "rejects")), root),
        default_format=fmt,
        root=str(root),
    )


def job_settings(job: str) -> dict[str, Any]:
    """The section of ``conf/jobs.yml`` that belongs to ``job`` (empty when it has none)."""
    return dict(_read_yaml("jobs.yml").get(job) or {})
