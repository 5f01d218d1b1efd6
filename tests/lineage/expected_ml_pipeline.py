"""ML pipeline: the expected column lineage of every column the job writes (jobs/ml_pipeline.py)."""

from __future__ import annotations

from tests.lineage.harness import AGG, ID, TR, I

# The active model_config row: numeric features from training_data and from the feature store, one
# categorical feature; churned is the label. monthly_spend is imputable, so no check rejects its nulls.
TRAINING_NUMERIC = ("tenure_months", "monthly_spend", "support_tickets", "num_products", "last_login_days")
STORE_NUMERIC = ("avg_order_value", "orders_last_90d", "days_since_last_order", "web_sessions_30d")
TRAINING_FIELDS = ("customer_id", *TRAINING_NUMERIC, "contract_type", "churned")
NUMERIC = (*[("training_data", f) for f in TRAINING_NUMERIC], *[("feature_store", f) for f in STORE_NUMERIC])
# The fitted pipeline scores every feature (UDFs: indexer, encoder, assembler, scaler, classifier); the
# imputer fills a numeric feature with CASE WHEN it IS NULL (or NaN) THEN <median> ELSE it.
SCORE = {**{field: {TR, I("CONDITIONAL")} for field in NUMERIC}, ("training_data", "contract_type"): {TR}}
# The usable rows: the validation checks' CASE WHEN (the duplicate check's window is ordered by every
# training column) tested for NULL, the newest snapshot per customer (row_number over customer_id,
# feature_ts DESC), the left join on customer_id, and randomSplit, which sorts each partition by every
# column before sampling.
PREPARED = {
    **{("training_data", f): {I("FILTER"), I("SORT")} for f in TRAINING_FIELDS},
    ("training_data", "customer_id"): {I("FILTER"), I("JOIN"), I("SORT")},
    ("feature_store", "customer_id"): {I("FILTER"), I("JOIN")},
    ("feature_store", "feature_ts"): {I("FILTER"), I("SORT")},  # has_feature_snapshot is sorted too
    **{("feature_store", f): {I("SORT")} for f in STORE_NUMERIC},
}
# trained_model is saved by Spark ML, one write per part of it, each of local data computed on the
# driver (fitted medians, labels, coefficients...): no input dataset reaches them.
MODEL_PARTS = {
    "metadata": ("_1",),
    "stages/0_Imputer/metadata": ("_1",),
    "stages/0_Imputer/data": (*TRAINING_NUMERIC, *STORE_NUMERIC),
    "stages/1_StringIndexer/metadata": ("_1",),
    "stages/1_StringIndexer/data": ("labelsArray",),
    "stages/2_OneHotEncoder/metadata": ("_1",),
    "stages/2_OneHotEncoder/data": ("categorySizes",),
    "stages/3_VectorAssembler/metadata": ("_1",),
    "stages/4_StandardScaler/metadata": ("_1",),
    "stages/4_StandardScaler/data": ("std", "mean"),
    "stages/5_LogisticRegression/metadata": ("_1",),
    "stages/5_LogisticRegression/data": ("numClasses", "numFeatures", "interceptVector", "coefficientMatrix",
                                         "isMultinomial"),
}

EXPECTED = {
    **{f"trained_model/{part}": {"fields": {col: {} for col in columns}, "dataset": {}}
       for part, columns in MODEL_PARTS.items()},
    "model_predictions": {
        "fields": {
            "customer_id": {("training_data", "customer_id"): {ID}},  # the left join's USING key: training's side
            "label": {("training_data", "churned"): {TR}},
            "prediction": SCORE,
            "churn_probability": SCORE,  # round(vector_to_array(probability)[1], 6)
            "split": {},  # a literal per randomSplit part
            "has_feature_snapshot": {("feature_store", "feature_ts"): {TR}},  # feature_ts IS NOT NULL
            "model_name": {},
            "model_version": {},
        },
        "dataset": PREPARED,
    },
    # Computed from model_predictions as published (read back by the job).
    "model_metrics": {
        "fields": {
            "metric": {},  # the unpivot's literal metric names
            # The unpivoted metrics: sums over label and prediction (tp, fp, fn, tn), precision, recall and
            # F1 under CASE WHEN on those sums; auc comes from local data and row_count counts rows.
            "value": {("model_predictions", f): {AGG, I("CONDITIONAL")} for f in ("label", "prediction")},
            "split": {("model_predictions", "split"): {ID}},
            "model_name": {("model_predictions", "model_name"): {ID}},
            "model_version": {("model_predictions", "model_version"): {ID}},
        },
        # grouped by split and model, joined with the AUCs on split
        "dataset": {("model_predictions", "split"): {I("GROUP_BY"), I("JOIN")},
                    **{("model_predictions", f): {I("GROUP_BY")} for f in ("model_name", "model_version")}},
    },
    # Weights read from the fitted model on the driver, ranked: local data only.
    "feature_importance": {
        "fields": {col: {} for col in ("feature_index", "feature_name", "source_column", "feature_kind",
                                       "weight_kind", "weight", "abs_weight", "importance_rank", "model_name",
                                       "model_version")},
        "dataset": {},
    },
    "rejects/model_config": {
        "fields": {
            "source_table": {},
            "reject_reason": {},
            "raw_record": {("model_config", "_corrupt_record"): {ID}},
            "rejected_by_job": {},
        },
        "dataset": {("model_config", "_corrupt_record"): {I("FILTER")}},
    },
    "rejects/training_data": {
        "fields": {
            "source_table": {},
            # The checks' CASE WHEN: customer_id, the label, the required features, and the duplicate
            # check's row_number over a window ordered by every column (monthly_spend only through it).
            "reject_reason": {("training_data", f): {I("CONDITIONAL")} for f in TRAINING_FIELDS},
            "raw_record": {("training_data", f): {TR} for f in TRAINING_FIELDS},  # to_json of the row
            "rejected_by_job": {},
        },
        "dataset": {("training_data", f): {I("FILTER")} for f in TRAINING_FIELDS},
    },
}
