"""OpenLineage names for datasets and jobs, as the official Spark listener forms them.

>>> dataset_identity("file:/work/data/outputs/orders")
('file', '/work/data/outputs/orders')
>>> dataset_identity("s3a://bucket/warehouse/orders")
('s3://bucket', 'warehouse/orders')
>>> dataset_identity("hdfs://nn:8020/data/orders")
('hdfs://nn:8020', '/data/orders')
>>> snake_case("InsertIntoHadoopFsRelationCommand")
'insert_into_hadoop_fs_relation_command'
>>> job_name("Orders Job", "InsertIntoHadoopFsRelationCommand", "/work/data/outputs/enriched_orders")
'orders_job.execute_insert_into_hadoop_fs_relation_command.outputs_enriched_orders'
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"[^0-9a-zA-Z]+")
# Object stores: the bucket is the namespace and the key (without a leading slash) the name.
_BUCKET_SCHEMES = {"s3": "s3", "s3a": "s3", "s3n": "s3", "gs": "gs", "wasbs": "wasbs", "abfss": "abfss"}


def dataset_identity(uri: str) -> tuple[str, str]:
    """(namespace, name) of a dataset stored at ``uri`` (a path or a URI)."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme in ("", "file"):
        path = parts.path if scheme else uri
        return "file", path.rstrip("/") or "/"
    if scheme in _BUCKET_SCHEMES:
        return f"{_BUCKET_SCHEMES[scheme]}://{parts.netloc}", parts.path.strip("/")
    return f"{scheme}://{parts.netloc}", parts.path.rstrip("/") or "/"


def snake_case(text: str) -> str:
    return _NOT_WORD.sub("_", _CAMEL.sub("_", text)).strip("_").lower()


def dataset_suffix(name: str) -> str:
    """The last two segments of a dataset name, joined by '_' (``/a/outputs/t`` -> ``outputs_t``)."""
    segments = [s for s in re.split(r"[/.]", name) if s]
    return snake_case("_".join(segments[-2:])) if segments else ""


def job_name(app_name: str, command: str, output_name: str | None, append_dataset_name: bool = True) -> str:
    """``<app>.execute_<command>.<last two segments of the output>``, all snake_case."""
    name = f"{snake_case(app_name)}.execute_{snake_case(command)}"
    if append_dataset_name and output_name:
        name += f".{dataset_suffix(output_name)}"
    return name
