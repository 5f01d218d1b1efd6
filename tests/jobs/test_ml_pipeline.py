"""Tests of jobs/ml_pipeline.py: every transform on tiny inline frames, then the whole job."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timezone

import pytest
from chispa import assert_df_equality
from pyspark.ml import PipelineModel
from pyspark.ml.classification import LogisticRegression, RandomForestClassifier
from pyspark.ml.feature import Imputer, OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler
from pyspark.ml.linalg import Vectors, VectorUDT
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.sql.types import BooleanType, DoubleType, StringType, StructField, StructType

from jobs import ml_pipeline
from lineage_audit.tables import read_table, split_corrupt

UTC = timezone.utc
TRAINING_DDL = (
    "customer_id string, tenure_months int, monthly_spend double, support_tickets int, num_products int, "
    "last_login_days int, contract_type string, churned int"
)
SPEC = ml_pipeline.ModelSpec(
    model_name="churn", version="1.0", algorithm="logistic_regression", label_col="churned",
    numeric_features=("tenure_months", "orders_last_90d"), categorical_features=("contract_type",),
    max_iter=10, reg_param=0.0, elastic_net_param=0.0, num_trees=3, max_depth=2, train_fraction=0.8, seed=7,
)


def test_active_model_config_fills_defaults(spark):
    configs = spark.createDataFrame([
        ("churn", " 2.0 ", True, "Random_Forest", "churned", ["a", "b"], None, None, None, None, 30, None, None, None),
        ("churn", "1.0", False, "logistic_regression", "churned", ["a"], ["c"], 5, 0.1, 0.5, None, None, 0.7, 1),
        ("churn", "0.9", None, "logistic_regression", "churned", ["a"], ["c"], 5, 0.1, 0.5, None, None, 0.7, 1),
    ], ml_pipeline.MODEL_CONFIG_SCHEMA)
    expected = spark.createDataFrame(
        [("churn", "2.0", "random_forest", "churned", ["a", "b"], [], 100, 0.0, 0.0, 30, 5, 0.8, 42)],
        "model_name string, version string, algorithm string, label_col string, numeric_features array<string>, "
        "categorical_features array<string>, max_iter int, reg_param double, elastic_net_param double, "
        "num_trees int, max_depth int, train_fraction double, seed long",
    )
    assert_df_equality(configs.transform(ml_pipeline.active_model_config), expected, ignore_nullable=True)


def test_to_model_spec_needs_exactly_one_known_active_config():
    row = Row(model_name="churn", version="2.0", algorithm="random_forest", label_col="churned",
              numeric_features=["a", "b"], categorical_features=[], max_iter=100, reg_param=0.0,
              elastic_net_param=0.0, num_trees=30, max_depth=5, train_fraction=0.8, seed=42)
    spec = ml_pipeline.to_model_spec([row])
    assert spec.numeric_features == ("a", "b") and spec.categorical_features == () and spec.num_trees == 30
    with pytest.raises(ValueError, match="exactly one active row, found 2"):
        ml_pipeline.to_model_spec([row, row])
    with pytest.raises(ValueError, match="exactly one active row, found 0"):
        ml_pipeline.to_model_spec([])
    with pytest.raises(ValueError, match="unknown algorithm 'xgboost'"):
        ml_pipeline.to_model_spec([Row(**{**row.asDict(), "algorithm": "xgboost"})])


def test_validate_training_rows(spark):
    training = spark.createDataFrame([
        ("C1", 10, None, 1, 2, 5, "monthly", 1),          # monthly_spend is imputable: kept
        ("C2", 20, 50.0, 0, 1, 3, "annual", None),
        ("C3", None, 60.0, 2, 1, 9, "annual", 0),
        ("C4", 30, 70.0, 1, 3, 1, "two_year", 2),
        ("C1", 40, 80.0, 1, 3, 1, "annual", 0),           # second row of C1
    ], TRAINING_DDL)
    kept, rejected = ml_pipeline.validate_training_rows(
        training, label_col="churned", required_features=("tenure_months", "contract_type"))
    expected_kept = spark.createDataFrame([("C1", 10, None, 1, 2, 5, "monthly", 1)], TRAINING_DDL)
    expected_rejected = spark.createDataFrame([
        ("null label churned", '{"customer_id":"C2","tenure_months":20,"monthly_spend":50.0,"support_tickets":0,'
                               '"num_products":1,"last_login_days":3,"contract_type":"annual"}'),
        ("null required feature tenure_months",
         '{"customer_id":"C3","monthly_spend":60.0,"support_tickets":2,"num_products":1,"last_login_days":9,'
         '"contract_type":"annual","churned":0}'),
        ("label churned not 0/1", '{"customer_id":"C4","tenure_months":30,"monthly_spend":70.0,"support_tickets":1,'
                                  '"num_products":3,"last_login_days":1,"contract_type":"two_year","churned":2}'),
        ("duplicate customer_id", '{"customer_id":"C1","tenure_months":40,"monthly_spend":80.0,"support_tickets":1,'
                                  '"num_products":3,"last_login_days":1,"contract_type":"annual","churned":0}'),
    ], "reject_reason string, raw_record string")
    assert_df_equality(kept, expected_kept, ignore_row_order=True, ignore_nullable=True)
    assert_df_equality(rejected, expected_rejected, ignore_row_order=True, ignore_nullable=True)


FEATURE_DDL = "customer_id string, orders_last_90d int"


def test_behavioural_features_are_derived_from_order_summary_and_sessions(spark):
    summary = spark.createDataFrame([
        # C1: 3 orders 100 days before the newest order day, 1 order on it
        ("C1", date(2026, 1, 1), 3, 90.0), ("C1", date(2026, 4, 11), 1, 10.0),
        ("C2", date(2026, 3, 1), 2, 50.0),
    ], "customer_id string, order_date date, order_count long, total_net_amount double")
    sessions = spark.createDataFrame([
        ("C1", "s1", date(2026, 3, 1)),   # more than 30 days before the newest session day
        ("C1", "s2", date(2026, 3, 20)), ("C3", "s3", date(2026, 3, 31)),
    ], "user_id string, session_id string, session_date date")
    actual = ml_pipeline.behavioural_features(summary, sessions)
    expected = spark.createDataFrame([
        ("C1", 25.0, 1, 0, 1),     # (90 + 10) / 4 orders; only the last day is within 90 days
        ("C2", 25.0, 2, 41, 0),    # no session: 0 sessions
        ("C3", None, 0, None, 1),  # sessions but no orders: the order features are unknown
    ], "customer_id string, avg_order_value double, orders_last_90d int, days_since_last_order int, "
       "web_sessions_30d int")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_join_features_left_joins_and_casts(spark):
    training = spark.createDataFrame([
        ("C1", 10, None, 1, 2, 5, " Monthly", 1),
        ("C2", 20, 50.0, 0, 1, 3, "annual", 0),
        ("C3", 30, 60.0, 2, 1, 9, "two_year", 0),
    ], TRAINING_DDL)
    features = spark.createDataFrame([("C1", 4), ("C3", None)], FEATURE_DDL)
    actual = training.transform(ml_pipeline.join_features, features, label_col="churned",
                                numeric_features=("tenure_months", "monthly_spend", "orders_last_90d"),
                                categorical_features=("contract_type",))
    expected = spark.createDataFrame([
        ("C1", 1.0, 10.0, None, 4.0, "monthly", True),
        ("C2", 0.0, 20.0, 50.0, None, "annual", False),
        ("C3", 0.0, 30.0, 60.0, None, "two_year", True),
    ], "customer_id string, label double, tenure_months double, monthly_spend double, orders_last_90d double, "
       "contract_type string, has_behaviour_features boolean")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_area_under_roc_is_the_evaluators_with_ties_counting_half(spark):
    from pyspark.ml.evaluation import BinaryClassificationEvaluator

    rows = [("test", 1, 0.9), ("test", 0, 0.8), ("test", 1, 0.7), ("test", 0, 0.7), ("test", 1, 0.6),
            ("test", 0, 0.2), ("train", 1, 0.9), ("train", 0, 0.1), ("one_class", 1, 0.5)]
    predictions = spark.createDataFrame(rows, "split string, label int, churn_probability double")
    auc = {r.split: r.auc for r in predictions.transform(ml_pipeline.area_under_roc).collect()}
    evaluator = BinaryClassificationEvaluator(labelCol="label", rawPredictionCol="churn_probability")
    test = predictions.where("split = 'test'").withColumn("label", F.col("label").cast("double"))
    assert auc["test"] == pytest.approx(evaluator.evaluate(test)) == pytest.approx(5.5 / 9)
    assert auc["train"] == 1.0
    assert auc["one_class"] is None  # no non-churner: the area is undefined


def test_assign_split_is_seeded_and_loses_no_rows(spark):
    prepared = spark.createDataFrame([("C1", 1.0), ("C2", 0.0), ("C3", 1.0), ("C4", 0.0)],
                                     "customer_id string, label double")
    first = prepared.transform(ml_pipeline.assign_split, train_fraction=0.5, seed=3)
    again = prepared.transform(ml_pipeline.assign_split, train_fraction=0.5, seed=3)
    assert_df_equality(first, again, ignore_row_order=True)
    assert_df_equality(first.drop("split"), prepared, ignore_row_order=True, ignore_nullable=True)
    assert {r.split for r in first.collect()} <= {"train", "test"}
    all_train = prepared.transform(ml_pipeline.assign_split, train_fraction=1.0, seed=3)
    expected = spark.createDataFrame([("C1", 1.0, "train"), ("C2", 0.0, "train"), ("C3", 1.0, "train"),
                                      ("C4", 0.0, "train")], "customer_id string, label double, split string")
    assert_df_equality(all_train, expected, ignore_row_order=True, ignore_nullable=True)


def test_build_pipeline_stages_follow_the_algorithm(spark):
    logistic = [type(s) for s in ml_pipeline.build_pipeline(SPEC).getStages()]
    assert logistic == [Imputer, StringIndexer, OneHotEncoder, VectorAssembler, StandardScaler, LogisticRegression]
    forest = ml_pipeline.build_pipeline(replace(SPEC, algorithm="random_forest", categorical_features=()))
    assert [type(s) for s in forest.getStages()] == [Imputer, VectorAssembler, RandomForestClassifier]
    assert forest.getStages()[-1].getNumTrees() == 3

    rows = spark.createDataFrame([
        (1.0, 2.0, None, "monthly"), (0.0, 60.0, 1.0, "annual"), (1.0, 5.0, 0.0, "monthly"), (0.0, 48.0, 3.0, None),
    ], "label double, tenure_months double, orders_last_90d double, contract_type string")
    scored = ml_pipeline.build_pipeline(SPEC).fit(rows).transform(rows)
    imputed = scored.select("orders_last_90d_imputed", "contract_type_vec")
    expected = spark.createDataFrame([
        (1.0, Vectors.sparse(2, [0], [1.0])), (1.0, Vectors.sparse(2, [1], [1.0])),
        (0.0, Vectors.sparse(2, [0], [1.0])), (3.0, Vectors.sparse(2, [], [])),   # unseen category: all zeros
    ], StructType([
        StructField("orders_last_90d_imputed", DoubleType()), StructField("contract_type_vec", VectorUDT()),
    ]))
    assert_df_equality(imputed, expected, ignore_row_order=True, ignore_nullable=True, ignore_metadata=True)


def test_prediction_rows(spark):
    scored = spark.createDataFrame([
        ("C1", 1.0, 1.0, Vectors.dense([0.2, 0.8]), "train", True, 42.0),
        ("C2", 0.0, 1.0, Vectors.dense([0.4444444, 0.5555556]), "test", False, 7.0),
        ("C3", 0.0, 0.0, Vectors.dense([0.9, 0.1]), "test", True, 1.0),
    ], StructType([
        StructField("customer_id", StringType()), StructField("label", DoubleType()),
        StructField("prediction", DoubleType()), StructField("probability", VectorUDT()),
        StructField("split", StringType()), StructField("has_behaviour_features", BooleanType()),
        StructField("tenure_months", DoubleType()),
    ]))
    expected = spark.createDataFrame([
        ("C1", 1, 1, 0.8, "train", True, "churn", "1.0"),
        ("C2", 0, 1, 0.555556, "test", False, "churn", "1.0"),
        ("C3", 0, 0, 0.1, "test", True, "churn", "1.0"),
    ], "customer_id string, label int, prediction int, churn_probability double, split string, "
       "has_behaviour_features boolean, model_name string, model_version string")
    actual = scored.transform(ml_pipeline.prediction_rows, model_name="churn", model_version="1.0")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


def test_classification_metrics(spark):
    predictions = spark.createDataFrame([
        ("C1", 1, 1, "train"), ("C2", 0, 1, "train"), ("C3", 1, 0, "train"), ("C4", 1, 1, "train"),
        ("C5", 0, 0, "test"),
    ], "customer_id string, label int, prediction int, split string").select(
        "*", F.lit("churn").alias("model_name"), F.lit("1.0").alias("model_version"))
    auc = spark.createDataFrame([("train", 0.75), ("test", 0.5)], "split string, auc double")
    expected = spark.createDataFrame([
        (m, v, s, "churn", "1.0") for m, v, s in [
            ("auc", 0.75, "train"), ("accuracy", 0.5, "train"), ("precision", 0.666667, "train"),
            ("recall", 0.666667, "train"), ("f1", 0.666667, "train"), ("row_count", 4.0, "train"),
            ("positive_count", 3.0, "train"),
            ("auc", 0.5, "test"), ("accuracy", 1.0, "test"), ("precision", None, "test"), ("recall", None, "test"),
            ("f1", None, "test"), ("row_count", 1.0, "test"), ("positive_count", 0.0, "test"),
        ]
    ], "metric string, value double, split string, model_name string, model_version string")
    assert_df_equality(predictions.transform(ml_pipeline.classification_metrics, auc), expected,
                       ignore_row_order=True, ignore_nullable=True)


def test_rank_features(spark):
    weights = spark.createDataFrame([
        (0, "tenure_months_imputed", -0.75), (1, "monthly_spend_imputed", 0.0123456789),
        (2, "contract_type_vec_monthly", 0.75), (3, "contract_type_vec_two_year", -0.2),
    ], "feature_index int, attribute_name string, weight double")
    expected = spark.createDataFrame([
        (0, "tenure_months", "tenure_months", "numeric", "coefficient", -0.75, 0.75, 1, "churn", "1.0"),
        (1, "monthly_spend", "monthly_spend", "numeric", "coefficient", 0.012346, 0.012346, 4, "churn", "1.0"),
        (2, "contract_type=monthly", "contract_type", "one_hot", "coefficient", 0.75, 0.75, 2, "churn", "1.0"),
        (3, "contract_type=two_year", "contract_type", "one_hot", "coefficient", -0.2, 0.2, 3, "churn", "1.0"),
    ], "feature_index int, feature_name string, source_column string, feature_kind string, weight_kind string, "
       "weight double, abs_weight double, importance_rank int, model_name string, model_version string")
    actual = weights.transform(ml_pipeline.rank_features, model_name="churn", model_version="1.0",
                               weight_kind="coefficient")
    assert_df_equality(actual, expected, ignore_row_order=True, ignore_nullable=True)


EXPECTED_SCHEMAS = {
    "model_predictions": [
        ("customer_id", "string"), ("label", "int"), ("prediction", "int"), ("churn_probability", "double"),
        ("split", "string"), ("has_behaviour_features", "boolean"), ("model_name", "string"),
        ("model_version", "string"),
    ],
    "model_metrics": [
        ("metric", "string"), ("value", "double"), ("split", "string"), ("model_name", "string"),
        ("model_version", "string"),
    ],
    "feature_importance": [
        ("feature_index", "int"), ("feature_name", "string"), ("source_column", "string"),
        ("feature_kind", "string"), ("weight_kind", "string"), ("weight", "double"), ("abs_weight", "double"),
        ("importance_rank", "int"), ("model_name", "string"), ("model_version", "string"),
    ],
}
KEYS = {"model_predictions": ["customer_id"], "model_metrics": ["metric", "split"],
        "feature_importance": ["feature_name"]}


@pytest.fixture(scope="module")
def ml_outputs(spark, pipeline_catalog, job_summary):
    summary = job_summary("ml_pipeline")
    assert summary.status == "ok"
    return {t: spark.read.parquet(pipeline_catalog.output(t).path) for t in EXPECTED_SCHEMAS}


@pytest.mark.parametrize("table", sorted(EXPECTED_SCHEMAS))
def test_job_output_schema_and_keys(ml_outputs, table):
    df = ml_outputs[table]
    assert df.dtypes == EXPECTED_SCHEMAS[table]
    assert df.count() > 0
    assert df.select(*KEYS[table]).distinct().count() == df.count()


def test_job_every_training_row_is_predicted_or_rejected(spark, pipeline_catalog, ml_outputs):
    raw = spark.read.parquet(pipeline_catalog.input("training_data").path).count()
    predicted = ml_outputs["model_predictions"].count()
    rejected = spark.read.parquet(pipeline_catalog.rejects("training_data").path).count()
    assert raw == predicted + rejected
    assert ml_outputs["model_predictions"].where("split = 'test'").count() > 0


def test_job_model_beats_min_auc_and_is_saved_with_its_card(spark, pipeline_catalog, ml_outputs):
    metrics = {(r.metric, r.split): r.value for r in ml_outputs["model_metrics"].collect()}
    min_auc = ml_pipeline.job_settings("ml")["min_auc"]
    assert metrics[("auc", "test")] > min_auc + 0.1
    predictions = ml_outputs["model_predictions"]
    assert metrics[("row_count", "test")] == predictions.where("split = 'test'").count()
    assert 0.5 < metrics[("accuracy", "test")] <= 1.0
    model = PipelineModel.load(pipeline_catalog.output("trained_model").path)
    assert type(model.stages[-1]).__name__ == "LogisticRegressionModel"
    # stage uids name the saved folders and the fitting's Spark jobs: stable, not random
    assert [stage.uid for stage in model.stages][:2] == ["churn_classifier_imputer", "churn_classifier_stringindexer"]
    [card] = spark.read.parquet(f"{pipeline_catalog.output('trained_model').path}/model_card").collect()
    assert (card.model_name, card.algorithm, card.training_rows) == (
        "churn_classifier", "logistic_regression", int(metrics[("row_count", "train")]))
    assert predictions.where("churn_probability < 0 OR churn_probability > 1").count() == 0


def test_job_feature_importance_names_expanded_features(ml_outputs):
    importance = {r.feature_name: r for r in ml_outputs["feature_importance"].collect()}
    assert {"contract_type=monthly", "contract_type=annual", "tenure_months", "monthly_spend"} <= set(importance)
    # The label is drawn with a negative tenure effect: the fitted coefficient must agree.
    assert importance["tenure_months"].weight < 0
    assert sorted(r.importance_rank for r in importance.values()) == list(range(1, len(importance) + 1))


def test_model_config_schema_reads_the_generated_file(spark, sample_catalog):
    raw = read_table(spark, sample_catalog.input("model_config"), ml_pipeline.MODEL_CONFIG_SCHEMA)
    parsed, malformed = split_corrupt(raw)
    active = parsed.transform(ml_pipeline.active_model_config).collect()
    spec = ml_pipeline.to_model_spec(active)
    assert (spec.algorithm, spec.label_col, spec.categorical_features) == (
        "logistic_regression", "churned", ("contract_type",))
    assert malformed.count() == 0
