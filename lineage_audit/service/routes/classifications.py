"""Personal data: the classes every field holds (``/audit/classifications``, per dataset, per field) and the
privacy policy check (``/audit/policy``). See ``service/classification.py`` for where classes come from and
``service/propagation.py`` for how they travel.

Registered before the dataset routes: ``/datasets/{dataset:path}`` would take ``<name>/classifications`` for a
name; the field route comes before the dataset one for the same reason.
"""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from lineage_audit.config import ConfigError
from lineage_audit.service.classification_models import (
    Classifications,
    DatasetClassifications,
    FieldEntry,
    PolicyCheck,
)
from lineage_audit.service.lookups import NameRoute, namespace_row
from lineage_audit.service.models import documented
from lineage_audit.service.privacy_policy import evaluate, load_policy
from lineage_audit.service.propagation import CLEAR, INFLUENCED, MASKED, ClassificationCache, Classified
from lineage_audit.service.routes.datasets import DatasetName, dataset_row

router = APIRouter(tags=["Audit"], route_class=NameRoute)
_cache_lock = threading.Lock()
NamespaceFilter = Annotated[str | None, Query(description="Only the datasets of this namespace")]


def classified(request: Request) -> Classified:
    """The current classification of the store (cached on the app until the store, tags or conf change)."""
    state = request.app.state
    with _cache_lock:
        if getattr(state, "classification_cache", None) is None:
            state.classification_cache = ClassificationCache(state.settings.resolved_classification_path)
    try:
        return state.classification_cache.get(state.engine)
    except ConfigError as error:
        raise HTTPException(500, str(error)) from None


def _namespace_ids(request: Request, result: Classified, namespace: str | None) -> list[int] | None:
    if namespace is None:
        return None
    with request.app.state.engine.connect() as conn:
        namespace_row(conn, namespace)
    return [i for i, (ns, _name) in result.snapshot.names.items() if ns == namespace]


@router.get("/audit/classifications", summary="The classes of personal data every field holds",
            description="The declared classes, and each field holding a class in the clear, masked, or being "
                        "influenced by one, with the source column and the shortest path of jobs and columns.",
            responses=documented(Classifications, "The classified fields", 404))
def list_classifications(request: Request, namespace: NamespaceFilter = None) -> JSONResponse:
    result = classified(request)
    keys = result.classified_fields(_namespace_ids(request, result, namespace))
    return JSONResponse({"classes": [{"name": n, "description": d} for n, d in result.classification.classes.items()],
                         "fields": [result.field_entry(key) for key in keys], "storeVersion": result.store_version})


@router.get("/audit/policy", summary="Check the outputs against the privacy policy",
            description="Every column of a dataset some job writes that holds a class in the clear the policy "
                        "does not allow there, with its path. Masked and influenced-by classes never violate it.",
            responses=documented(PolicyCheck, "The check's result", 404))
def check_policy(request: Request, namespace: NamespaceFilter = None) -> JSONResponse:
    result = classified(request)
    if namespace is not None:
        _namespace_ids(request, result, namespace)
    try:
        policy = load_policy(request.app.state.settings.resolved_privacy_policy_path)
    except ConfigError as error:
        raise HTTPException(500, str(error)) from None
    return JSONResponse(evaluate(result, policy, namespace))


@router.get("/namespaces/{namespace}/datasets/{dataset:path}/fields/{field}/classifications",
            summary="The classes of personal data a field holds",
            responses=documented(FieldEntry, "The field's classes, with their paths", 404))
def field_classifications(request: Request, namespace: str, dataset: DatasetName, field: str) -> JSONResponse:
    dataset_id = _dataset_id(request, namespace, dataset)  # first: the classification then knows the dataset
    result = classified(request)
    if (dataset_id, field) not in result.dataset_fields(dataset_id):
        raise HTTPException(404, f"Field '{field}' not found in dataset '{dataset}'.")
    return JSONResponse(result.field_entry((dataset_id, field)))


@router.get("/namespaces/{namespace}/datasets/{dataset:path}/classifications",
            summary="The classes of personal data a dataset holds",
            description="The classes in the clear in any field, masked, influencing fields, influencing which "
                        "rows it holds (dataset-level dependencies), and every field's entry.",
            responses=documented(DatasetClassifications, "The dataset's classes, field by field", 404))
def dataset_classifications(request: Request, namespace: str, dataset: DatasetName) -> JSONResponse:
    dataset_id = _dataset_id(request, namespace, dataset)  # first: the classification then knows the dataset
    result = classified(request)
    entries = [result.field_entry(key) for key in result.dataset_fields(dataset_id)]
    rows = result.rows.get(dataset_id, {})
    ns, name = result.snapshot.names[dataset_id]

    def classes(status: str) -> list[str]:
        return sorted({carry["class"] for entry in entries for carry in entry[status]})

    return JSONResponse({"id": {"namespace": ns, "name": name}, "classes": classes(CLEAR),
                         "maskedClasses": classes(MASKED), "influencedByClasses": classes(INFLUENCED),
                         "rowsInfluencedBy": [rows[k] for k in sorted(rows, key=lambda k: (k[0], repr(k)))],
                         "fields": entries})


def _dataset_id(request: Request, namespace: str, dataset: str) -> int:
    with request.app.state.engine.connect() as conn:
        return dataset_row(conn, namespace, dataset)["id"]
