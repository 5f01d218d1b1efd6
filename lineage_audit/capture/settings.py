"""Capture settings from the official ``spark.openlineage.*`` keys, so one config serves both agents.

Precedence, resolved once by :func:`resolve_settings`: Spark properties (``--conf``) beat
``spark-defaults.conf`` (where the namespace and transport live, for the official listener under a
plain ``spark-submit`` too), which beats ``conf/openlineage.yml``, which beats the defaults. The transport
section becomes an ``openlineage-python`` transport config dict.

>>> s = resolve_settings({"spark.openlineage.transport.type": "file",
...                       "spark.openlineage.transport.location": "/tmp/events.ndjson",
...                       "spark.openlineage.namespace": "etl"}, file_config={})
>>> s.namespace, s.transport
('etl', {'type': 'file', 'log_file_path': '/tmp/events.ndjson', 'append': True})
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from lineage_audit.config import conf_dir, default_data_dir, parse_properties, spark_defaults

PREFIX = "spark.openlineage."
DEFAULT_URL = "http://127.0.0.1:5000"
DEFAULT_NAMESPACE = "data-lineage-audit"
OFFICIAL_LISTENER = "io.openlineage.spark.agent.OpenLineageSparkListener"


@dataclass(frozen=True)
class CaptureSettings:
    namespace: str = DEFAULT_NAMESPACE
    transport: Mapping[str, Any] = field(default_factory=lambda: http_transport(DEFAULT_URL, "api/v1/lineage"))
    disabled: bool = False
    append_dataset_name: bool = True
    dataset_lineage_enabled: bool = True
    disabled_facets: frozenset[str] = frozenset()
    parent_job_namespace: str | None = None
    parent_job_name: str | None = None
    parent_run_id: str | None = None
    timeout_seconds: float = 10.0
    spool_dir: Path = field(default_factory=lambda: default_data_dir() / "lineage-spool")
    app_name: str | None = None  # spark.openlineage.appName: names the application's jobs instead of spark.app.name
    # spark.openlineage.facets.custom_environment_variables=[A;B]: the driver's variables each run reports
    environment_variables: tuple[str, ...] = ()
    remove_path_pattern: str | None = None  # spark.openlineage.dataset.removePath.pattern

    def facet_enabled(self, name: str) -> bool:
        return name not in self.disabled_facets


def http_transport(url: str, endpoint: str, api_key: str | None = None, timeout: float = 5.0) -> dict[str, Any]:
    config: dict[str, Any] = {
        "type": "http", "url": url.rstrip("/"), "endpoint": endpoint.lstrip("/"), "timeout": timeout,
        # A down server must not stall the job: few, quick retries; the spool keeps what fails.
        "retry": {"total": 1, "backoff_factor": 0.1, "status_forcelist": [500, 502, 503, 504]},
    }
    if api_key:
        config["auth"] = {"type": "api_key", "apiKey": api_key}
    return config


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _nest(props: Mapping[str, str], prefix: str) -> dict[str, Any]:
    """``{prefix + 'a.b': v}`` -> ``{'a': {'b': v}}``."""
    tree: dict[str, Any] = {}
    for key, value in props.items():
        if not key.startswith(prefix):
            continue
        parts = key[len(prefix):].split(".")
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return tree


def _dotted(tree: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            flat.update(_dotted(value, name))
        else:
            flat[name] = str(value)
    return flat


def transport_config(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Translate the official listener's transport keys into an openlineage-python config."""
    kind = str(spec.get("type", "http")).lower()
    if kind == "http":
        auth = spec.get("auth", {}) or {}
        api_key = auth.get("apiKey") or auth.get("api_key")
        timeout = float(spec["timeoutInMillis"]) / 1000 if "timeoutInMillis" in spec else float(spec.get("timeout", 5))
        return http_transport(str(spec.get("url", DEFAULT_URL)), str(spec.get("endpoint", "api/v1/lineage")),
                              api_key, timeout)
    if kind == "file":
        location = spec.get("location") or spec.get("log_file_path")
        if not location:
            raise ValueError("spark.openlineage.transport.location is required for the file transport")
        return {"type": "file", "log_file_path": str(location), "append": True}
    if kind == "console":
        return {"type": "console"}
    if kind == "kafka":
        # Kafka's own keys contain dots (bootstrap.servers): join what key splitting nested.
        properties = _dotted(spec.get("properties", {}) or {})
        return {"type": "kafka", "topic": spec.get("topicName") or spec.get("topic"), "config": properties,
                "flush": True}
    if kind == "composite":
        children = spec.get("transports", {}) or {}
        return {"type": "composite", "transports": {name: transport_config(c) for name, c in children.items()}}
    raise ValueError(f"unknown spark.openlineage.transport.type {kind!r} (http, file, console, kafka, composite)")


def file_properties(path: Path | None = None) -> dict[str, str]:
    """Flatten conf/openlineage.yml (or ``path``) into spark.openlineage.* keys."""
    path = path or conf_dir() / "openlineage.yml"
    if not path.exists():
        return {}
    content = yaml.safe_load(path.read_text()) or {}

    def flatten(node: Any, prefix: str) -> dict[str, str]:
        if isinstance(node, dict):
            out: dict[str, str] = {}
            for key, value in node.items():
                out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
            return out
        return {PREFIX + prefix: str(node).lower() if isinstance(node, bool) else str(node)}

    return flatten(content, "")


def resolve_settings(spark_conf: Mapping[str, str], file_config: Mapping[str, str] | None = None) -> CaptureSettings:
    """Combine Spark properties with ``spark-defaults.conf`` and ``conf/openlineage.yml`` (or ``file_config``)."""
    props = dict(file_properties() if file_config is None else file_config)
    if file_config is None:
        props.update({k: v for k, v in parse_properties(_read(spark_defaults())).items() if k.startswith(PREFIX)})
    props.update({k: v for k, v in spark_conf.items() if k.startswith(PREFIX)})
    tree = _nest(props, PREFIX)
    facets = tree.get("facets", {}) or {}
    disabled_facets = frozenset(name for name, opts in facets.items()
                                if isinstance(opts, dict) and _truthy(opts.get("disabled", "false")))
    spool = tree.get("spool", {}).get("dir") if isinstance(tree.get("spool"), dict) else None
    return CaptureSettings(
        namespace=str(tree.get("namespace", DEFAULT_NAMESPACE)),
        transport=transport_config(tree.get("transport", {}) or {}),
        disabled=_truthy(tree.get("disabled", "false")),
        append_dataset_name=_truthy(tree.get("jobName", {}).get("appendDatasetName", "true")),
        dataset_lineage_enabled=_truthy(tree.get("columnLineage", {}).get("datasetLineageEnabled", "true")),
        disabled_facets=disabled_facets,
        parent_job_namespace=tree.get("parentJobNamespace"),
        parent_job_name=tree.get("parentJobName"),
        parent_run_id=tree.get("parentRunId"),
        timeout_seconds=float(tree.get("timeoutSeconds", 10)),
        spool_dir=Path(spool) if spool else default_data_dir() / "lineage-spool",
        app_name=str(tree["appName"]) if tree.get("appName") else None,
        environment_variables=_names(facets.get("custom_environment_variables")),
        remove_path_pattern=_remove_path_pattern(tree.get("dataset")),
    )


def _remove_path_pattern(dataset: Any) -> str | None:
    if not isinstance(dataset, dict) or not isinstance(dataset.get("removePath"), dict):
        return None
    return dataset["removePath"].get("pattern") or None


def _names(value: Any) -> tuple[str, ...]:
    """``[A;B]`` (the official listener's list syntax for a property) as ``("A", "B")``."""
    if not isinstance(value, str):
        return ()
    return tuple(name.strip() for name in value.strip().strip("[]").split(";") if name.strip())


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except FileNotFoundError:
        return ""


def official_listener_registered(spark_conf: Mapping[str, str]) -> bool:
    """True when the official OpenLineage JAR's listener is configured: built-in capture stands down."""
    return OFFICIAL_LISTENER in spark_conf.get("spark.extraListeners", "")
