"""ML pipeline: the expected column lineage of every column the job writes (jobs/ml_pipeline.py)."""

from __future__ import annotations

from tests.lineage.harness import AGG, COUNT, ID, TR, I

# The active model_config row: numeric features from training_data and the behavioural features the
# job derives from order_summary (the orders job) and real_time_user_analytics (the analytics job);
# one categorical feature; churned is the label. monthly_spend is imputable, so no check rejects its nulls.
TRAINING_NUMERIC = ("tenure_months", "monthly_spend", "support_tickets", "num_products", "last_login_days")
TRAINING_FIELDS = ("customer_id", *TRAINING_NUMERIC, "contract_type", "churned")
# avg_order_value = sum(total_net_amount) / sum(order_count); orders_last_90d sums order_count when
# order_date is within 90 days of max(order_date); days_since_last_order = datediff(max(as_of),
# max(order_date)); web_sessions_30d counts session_id (a count: masked). The imputer then fills a
# missing feature with CASE WHEN it IS NULL (or NaN) THEN <median> ELSE it.
BEHAVIOUR = {
    **{("order_summary", f): {AGG, I("CONDITIONAL")} for f in ("order_count", "order_date", "total_net_amount")},
    ("real_time_user_analytics", "session_id"): {COUNT, I("CONDITIONAL") + "+masked"},
}
# The fitted pipeline scores every feature (UDFs: indexer, encoder, assembler, scaler, classifier).
SCORE = {**{("training_data", f): {TR, I("CONDITIONAL")} for f in TRAINING_NUMERIC}, **BEHAVIOUR,
         ("training_data", "contract_type"): {TR}}
# The usable rows: the validation checks' CASE WHEN (the duplicate check's window is ordered by every
# training column) tested for NULL; the features grouped per customer (sessions of the last 30 days
# only) and full-outer joined on it, left-joined to the training rows; and randomSplit, which sorts
# each partition by every column before sampling.
PREPARED = {
    **{("training_data", f): {I("FILTER"), I("SORT")} for f in TRAINING_FIELDS},
    ("training_data", "customer_id"): {I("FILTER"), I("JOIN"), I("SORT")},
    ("order_summary", "customer_id"): {I("GROUP_BY"), I("JOIN"), I("SORT")},
    **{("order_summary", f): {I("SORT")} for f in ("order_count", "order_date", "total_net_amount")},
    ("real_time_user_analytics", "user_id"): {I("GROUP_BY"), I("JOIN"), I("SORT")},
    ("real_time_user_analytics", "session_date"): {I("FILTER")},
    ("real_time_user_analytics", "session_id"): {I("SORT") + "+masked"},
}
# has_behaviour_features: the features' customer_id (the full outer join's coalesced key) IS NOT NULL
HAS_BEHAVIOUR = {("order_summary", "customer_id"): {TR, I("CONDITIONAL")},
                 ("real_time_user_analytics", "user_id"): {TR, I("CONDITIONAL")}}

EXPECTED = {
    # The model's files are saved with capture paused; its card, written into it, is the model's one
    # recorded write (JobRun.save_model): literals from model_config, and aggregates of the training split.
    "trained_model": {
        "fields": {
            **{col: {} for col in ("model_name", "model_version", "algorithm", "label_col", "numeric_features",
                                   "categorical_features")},
            "training_rows": {("training_data", "customer_id"): {COUNT}},
            "positive_rate": {("training_data", "churned"): {AGG}},  # avg(label)
            "rows_with_behaviour_features": {field: {COUNT, I("CONDITIONAL") + "+masked"} for field in HAS_BEHAVIOUR},
        },
        "dataset": PREPARED,
    },
    "model_predictions": {
        "fields": {
            "customer_id": {("training_data", "customer_id"): {ID}},  # the left join's USING key: training's side
            "label": {("training_data", "churned"): {TR}},
            "prediction": SCORE,
            "churn_probability": SCORE,  # round(vector_to_array(probability)[1], 6)
            "split": {},  # a literal per randomSplit part
            "has_behaviour_features": HAS_BEHAVIOUR,
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
            # F1 under CASE WHEN on those sums, row_count counting rows; and the AUC, a sum of the churners'
            # ranks (row_number over a window per split ordered by churn_probability) over label sums.
            "value": {**{("model_predictions", f): {AGG, I("CONDITIONAL")} for f in ("label", "prediction")},
                      **{("model_predictions", f): {I("WINDOW")} for f in ("split", "churn_probability")}},
            "split": {("model_predictions", "split"): {ID}},
            "model_name": {("model_predictions", "model_name"): {ID}},
            "model_version": {("model_predictions", "model_version"): {ID}},
        },
        # grouped by split and model, joined with the AUCs on split; tied scores grouped for their mean rank
        "dataset": {("model_predictions", "split"): {I("GROUP_BY"), I("JOIN")},
                    **{("model_predictions", f): {I("GROUP_BY")}
                       for f in ("model_name", "model_version", "churn_probability")}},
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
