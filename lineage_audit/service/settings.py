"""The service's settings in one object: flags over environment over ``conf/service.yml``.

>>> s = load_settings(file_config={"port": 5050}, environ={"LINEAGE_AUDIT_SERVICE_PORT": "6060"},
...                   overrides={"host": "0.0.0.0"})
>>> (s.host, s.port, s.is_loopback)
('0.0.0.0', 6060, False)
"""

from __future__ import annotations

import os
from pathlib import Path
from dataclasses import dataclass, fields
from typing import Any, Mapping

import yaml

from lineage_audit.config import ConfigError, conf_dir, default_data_dir

ENV_PREFIX = "LINEAGE_AUDIT_SERVICE_"
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ServiceSettings:
    host: str = "127.0.0.1"
    port: int = 5000
    database_url: str = ""  # empty: sqlite in the data directory
    ingest_api_key: str | None = None
    read_api_key: str | None = None
    max_body_bytes: int = 10 * 1024 * 1024
    classification_path: str = ""  # empty: conf/classification.yml
    privacy_policy_path: str = ""  # empty: conf/privacy_policy.yml

    @property
    def is_loopback(self) -> bool:
        return self.host in LOOPBACK or self.host.startswith("127.")

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{default_data_dir() / 'lineage.db'}"

    @property
    def resolved_classification_path(self) -> Path:
        return Path(self.classification_path) if self.classification_path else conf_dir() / "classification.yml"

    @property
    def resolved_privacy_policy_path(self) -> Path:
        return Path(self.privacy_policy_path) if self.privacy_policy_path else conf_dir() / "privacy_policy.yml"

    @property
    def base_url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"http://{host}:{self.port}"


def _file_config() -> dict[str, Any]:
    path = conf_dir() / "service.yml"
    if not path.exists():
        return {}
    content = yaml.safe_load(path.read_text()) or {}
    if not isinstance(content, dict):
        raise ConfigError(f"{path} must hold a mapping")
    return content


def _coerce(name: str, value: Any) -> Any:
    if value is None or value == "":
        return None if name.endswith("api_key") else value
    if name in ("port", "max_body_bytes"):
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"service setting {name} must be an integer, not {value!r}") from None
    return str(value)


def load_settings(overrides: Mapping[str, Any] | None = None, *, file_config: Mapping[str, Any] | None = None,
                  environ: Mapping[str, str] | None = None) -> ServiceSettings:
    file_config = _file_config() if file_config is None else file_config
    environ = os.environ if environ is None else environ
    known = {f.name for f in fields(ServiceSettings)}
    unknown = set(file_config) - known
    if unknown:
        raise ConfigError(f"unknown service settings in conf/service.yml: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name in known:
        for layer in (file_config.get(name), environ.get(ENV_PREFIX + name.upper()), (overrides or {}).get(name)):
            if layer is not None:
                values[name] = _coerce(name, layer)
    return ServiceSettings(**{k: v for k, v in values.items() if v is not None or k.endswith("api_key")})
