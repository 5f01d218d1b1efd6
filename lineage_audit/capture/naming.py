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

A folder that only names a partition (a date, a month, ``key=value``) is not a dataset of its own:
the name ends at the table folder above it, as the official listener's dataset name trimmers do.

>>> dataset_identity("file:/work/data/rdd_c/20251030")
('file', '/work/data/rdd_c')
>>> job_name("app", "InsertIntoHadoopFsRelationCommand", dataset_identity("/data/rdd_c/2025-10-30")[1])
'app.execute_insert_into_hadoop_fs_relation_command.data_rdd_c'
"""

from __future__ import annotations

import re
from typing import Callable
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


_REMOVE_PATH: re.Pattern | None = None


def set_remove_path_pattern(pattern: str | None) -> None:
    """``spark.openlineage.dataset.removePath.pattern``: a regular expression whose group named
    ``remove`` is cut out of every dataset name it matches (Java's ``(?<remove>...)`` syntax).

    >>> set_remove_path_pattern(r"(?<remove>/model_card)$")
    >>> dataset_identity("/data/outputs/trained_model/model_card")
    ('file', '/data/outputs/trained_model')
    >>> set_remove_path_pattern(None)
    """
    global _REMOVE_PATH
    _REMOVE_PATH = re.compile(re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", pattern)) if pattern else None


def remove_path(name: str) -> str:
    """``name`` with the ``remove`` group of the removePath pattern cut out, as the official listener does."""
    if _REMOVE_PATH is None:
        return name
    match = _REMOVE_PATH.search(name)
    if match is None or "remove" not in _REMOVE_PATH.groupindex or match.group("remove") is None:
        return name
    return name[:match.start("remove")] + name[match.end("remove"):]


def dataset_identity(uri: str, remove: bool = True) -> tuple[str, str]:
    """(namespace, name) of a dataset stored at ``uri`` (a path, a URI or a :func:`jdbc_uri`),
    partition folders trimmed off its end (see :func:`trim_partition_folders`) and, unless
    ``remove`` is false, the removePath pattern applied (see :func:`set_remove_path_pattern`)."""
    namespace, name = location_identity(uri)
    name = trim_partition_folders(name)
    return namespace, remove_path(name) if remove else name


def location_identity(uri: str) -> tuple[str, str]:
    """(namespace, name) of exactly the folder ``uri`` names, partition folders and all."""
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
    """A dataset name as the official listener ends a job name with it.

    A path gives its last two folders joined by '_'; any other name (``db.table``) stays whole.
    Dots become '_' (they separate a job name's parts); case and other characters are kept.

    >>> dataset_suffix("/data/outputs/trained_model/stages/1_StringIndexer_4a2b9c/data")
    '1_StringIndexer_4a2b9c_data'
    >>> dataset_suffix("/data/out-dir/My.Table-V2"), dataset_suffix("warehouse/orders")
    ('out-dir_My_Table-V2', 'warehouse_orders')
    >>> dataset_suffix("default.paid_orders"), dataset_suffix("NEXT_AGES")
    ('default_paid_orders', 'NEXT_AGES')

    A folder right under the root is not taken for a path (its slash stays), as the official listener does:

    >>> dataset_suffix("/orders")
    '/orders'
    """
    if name.rfind("/") > 0:
        name = "_".join(name.rstrip("/").split("/")[-2:])
    return name.replace(".", "_")


def job_name(app_name: str, command: str, output_name: str | None, append_dataset_name: bool = True) -> str:
    """``<app>.execute_<command>.<output suffix>``: the application and command snake_case, the
    output as :func:`dataset_suffix` gives it."""
    name = f"{snake_case(app_name)}.execute_{snake_case(command)}"
    if append_dataset_name and output_name:
        name += f".{dataset_suffix(output_name)}"
    return name


# --- Partition folders -------------------------------------------------------------------------
# The official listener (openlineage-java's DatasetConfig) trims a dataset name with four trimmers,
# in this order, again and again until none applies: a date, key=value, year/month[/day] folders,
# a year-month. Java's SMART date resolution accepts any day 1-31 in any month; so do these.
_DATE_IN_TEXT = (re.compile(r"\d{4}-\d{2}-\d{2}"), re.compile(r"\d{2}\.\d{2}\.\d{4}"), re.compile(r"\d{8}"))
_YEAR_MONTH = (re.compile(r"(\d{4,})(\d{2})"), re.compile(r"(\d{4,})-(\d{2})"))
_YEAR_MONTH_DAY = re.compile(r"(\d{4,})(\d{2})(\d{2})")


def _is_date(text: str) -> bool:
    """Whether a yyyy-MM-dd, dd.MM.yyyy or yyyyMMdd match is a date (Java's SMART resolution)."""
    digits = re.sub(r"\D", "", text)
    year, month, day = (digits[4:], digits[2:4], digits[:2]) if "." in text else (digits[:4], digits[4:6], digits[6:])
    return int(year) >= 1 and 1 <= int(month) <= 12 and 1 <= int(day) <= 31


def _year_month_day(text: str) -> bool:
    match = _YEAR_MONTH_DAY.fullmatch(text)
    return bool(match) and int(match[1]) >= 1 and 1 <= int(match[2]) <= 12 and 1 <= int(match[3]) <= 31


def _year_month(text: str) -> bool:
    return any((m := pattern.fullmatch(text)) and int(m[1]) >= 1 and 1 <= int(m[2]) <= 12 for pattern in _YEAR_MONTH)


def _folders(name: str) -> list[str]:
    return [part for part in name.removeprefix("/").split("/")]


def _trim_date(name: str) -> str:
    """``.../20251030``, ``.../2025-10-30T10:00:00Z``: a date with at most a time, nothing else."""
    folders = _folders(name)
    if len(folders) < 2:
        return name
    last = folders[-1]
    for pattern in _DATE_IN_TEXT:
        for match in pattern.finditer(last):
            if _is_date(match[0]):
                rest = last.replace(match[0], "", 1).replace("T", "", 1).replace("Z", "", 1)
                return name.rsplit("/", 1)[0] if not re.sub(r"[\s:.\-\d]", "", rest) else name
    return name


def _trim_key_value(name: str) -> str:
    """``.../dt=2025-10-30``: one ``=`` in the last folder."""
    folders = _folders(name)
    return name.rsplit("/", 1)[0] if len(folders) > 1 and folders[-1].count("=") == 1 else name


def _trim_year_month_day_folders(name: str) -> str:
    """``.../2025/10`` and ``.../2025/10/30``: two or three folders that together read as a date."""
    folders = _folders(name)
    if len(folders) >= 3 and _year_month("".join(folders[-2:])):
        return name.rsplit("/", 2)[0]
    if len(folders) >= 4 and _year_month_day("".join(folders[-3:])):
        return name.rsplit("/", 3)[0]
    return name


def _trim_year_month(name: str) -> str:
    """``.../202510`` and ``.../2025-10``."""
    folders = _folders(name)
    return name.rsplit("/", 1)[0] if len(folders) > 1 and _year_month(folders[-1]) else name


_TRIMMERS: tuple[Callable[[str], str], ...] = (_trim_date, _trim_key_value, _trim_year_month_day_folders,
                                               _trim_year_month)


def trim_partition_folders(name: str) -> str:
    """A dataset name without the partition folders at its end, as the official listener names it.

    >>> trim_partition_folders("/data/rdd_c/20251030")
    '/data/rdd_c'
    >>> [trim_partition_folders(f"/data/t/{folder}") for folder in ("2025-10-30", "30.10.2025", "2025-10",
    ...                                                             "202510", "dt=2025-10-30", "2025-10-30T10:00:00Z")]
    ['/data/t', '/data/t', '/data/t', '/data/t', '/data/t', '/data/t']
    >>> trim_partition_folders("/data/t/2025/10/30"), trim_partition_folders("/data/t/dt=2025-10-30/hour=10")
    ('/data/t', '/data/t')
    >>> trim_partition_folders("warehouse/orders/20251030")  # an object store key: no leading slash
    'warehouse/orders'

    Not partitions: a date with other text, an impossible date, a folder right under the root.

    >>> [trim_partition_folders(n) for n in ("/data/t/data_20251030", "/data/t/20251340", "/20251030", "/data/t")]
    ['/data/t/data_20251030', '/data/t/20251340', '/20251030', '/data/t']
    """
    while True:
        trimmed = name
        for trimmer in _TRIMMERS:
            trimmed = trimmer(trimmed)
        if trimmed == name:
            return name
        name = trimmed
