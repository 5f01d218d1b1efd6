"""OpenLineage names for datasets and jobs, as the official Spark listener forms them.

>>> dataset_identity("file:/work/data/outputs/orders")
('file', '/work/data/outputs/orders')
>>> dataset_identity("s3a://bucket/warehouse/orders")
('s3://bucket', 'warehouse/orders')
>>> dataset_identity("hdfs://nn:8020/data/orders")
('hdfs://nn:8020', '/data/orders')
>>> dataset_identity(jdbc_uri("jdbc:postgresql://db.internal:5432/shop?ssl=true", "public.orders"))
('postgres://db.internal:5432', 'shop.public.orders')
>>> dataset_identity(jdbc_uri("jdbc:derby:memory:lineage;create=true", "APP.ORDERS"))
('derby:memory:lineage', 'APP.ORDERS')
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


# JDBC sub-protocols named as the OpenLineage naming conventions name the database.
_JDBC_SCHEMES = {"postgresql": "postgres", "sqlserver": "sqlserver", "mysql": "mysql", "oracle": "oracle"}


def jdbc_uri(url: str, table: str) -> str:
    """A JDBC table as one URI: the URL without credentials and parameters, then ``/<table>``."""
    base = re.split(r"[;?]", url, maxsplit=1)[0]
    base = re.sub(r"//[^/@]*@", "//", base)  # user:password@host
    return f"{base.rstrip('/')}/{table}"


def _jdbc_identity(uri: str) -> tuple[str, str]:
    rest = uri[len("jdbc:"):]
    parts = urlsplit(rest)
    scheme = parts.scheme.lower()
    if parts.netloc:  # jdbc:postgresql://host:port/db/<table>: the database joins the table's name
        name = ".".join(s for s in parts.path.split("/") if s)
        return f"{_JDBC_SCHEMES.get(scheme, scheme)}://{parts.netloc}", name
    namespace, _, name = rest.rpartition("/")  # jdbc:derby:memory:db/<table>
    return namespace, name


def dataset_identity(uri: str) -> tuple[str, str]:
    """(namespace, name) of a dataset stored at ``uri`` (a path, a URI or a :func:`jdbc_uri`)."""
    if uri.startswith("jdbc:"):
        return _jdbc_identity(uri)
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
