"""Churn model training: a Spark ML pipeline configured by the active row of model_config.

Inputs: training_data (one row per customer with the churn label and contract data), the
behavioural features derived from what the orders job (order_summary) and the analytics job
(real_time_user_analytics) publish, model_config (JSON Lines; exactly one row is active).
Outputs:
- trained_model: the fitted PipelineModel (imputer, indexer + one-hot encoder, assembler,
  scaler, logistic regression or random forest), with its model card (model, features, training
  rows and positive rate), the one write of it that lineage records;
- model_predictions: one row per usable training row with its seeded train/test split, predicted
  class and churn probability;
- model_metrics: AUC, accuracy, precision, recall, F1 and row counts per split, as long rows,
  computed from model_predictions as published;
- feature_importance: coefficient (or importance) per expanded feature, ranked by magnitude.
Training rows lacking the id, the label or a feature that cannot be imputed are quarantined.
Numeric features are imputed with the training median where missing: monthly_spend has sparse
nulls, and customers without orders miss the order features. A model whose
test AUC is below ``ml.min_auc`` fails the job once every output is written, for inspection.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.classification import LogisticRegression, RandomForestClassifier
from pyspark.ml.feature import Imputer, OneHotEncoder, StandardScaler, StringIndexer, VectorAssembler
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType, BooleanType, DoubleType, IntegerType, LongType, StringType, StructField, StructType,
)

from lineage_audit.config import job_settings
from lineage_audit.job import JobRun
from lineage_audit.tables import as_rejects, split_corrupt

MODEL_CONFIG_SCHEMA = StructType([
    StructField("model_name", StringType()),
    StructField("version", StringType()),
    StructField("active", BooleanType()),
    StructField("algorithm", StringType()),
    StructField("label_col", StringType()),
    StructField("numeric_features", ArrayType(StringType())),
    StructField("categorical_features", ArrayType(StringType())),
    StructField("max_iter", IntegerType()),
    StructField("reg_param", DoubleType()),
    StructField("elastic_net_param", DoubleType()),
    StructField("num_trees", IntegerType()),
    StructField("max_depth", IntegerType()),
    StructField("train_fraction", DoubleType()),
    StructField("seed", LongType()),
])
ALGORITHMS = ("logistic_regression", "random_forest")
# Sparse nulls here are expected from the billing export; other training columns must be present.
IMPUTABLE_TRAINING_FEATURES = ("monthly_spend",)
RAW_FEATURES = "raw_features"  # the assembler output: its metadata names every expanded feature
SPLITS = ("train", "test")


@dataclass(frozen=True)
class ModelSpec:
    """The active model_config row, as plain Python values."""

    model_name: str
    version: str
    algorithm: str
    label_col: str
    numeric_features: tuple[str, ...]
    categorical_features: tuple[str, ...]
    max_iter: int
    reg_param: float
    elastic_net_param: float
    num_trees: int
    max_depth: int
    train_fraction: float
    seed: int


def active_model_config(configs: DataFrame) -> DataFrame:
    """The active configuration rows with defaults filled in for unset hyper-parameters."""
    return configs.where(F.col("active")).select(
        F.trim("model_name").alias("model_name"),
        F.trim("version").alias("version"),
        F.lower(F.trim("algorithm")).alias("algorithm"),
        F.col("label_col").alias("label_col"),
        F.col("numeric_features").alias("numeric_features"),
        F.coalesce(F.col("categorical_features"), F.array().cast("array<string>")).alias("categorical_features"),
        F.coalesce(F.col("max_iter"), F.lit(100)).alias("max_iter"),
        F.coalesce(F.col("reg_param"), F.lit(0.0)).alias("reg_param"),
        F.coalesce(F.col("elastic_net_param"), F.lit(0.0)).alias("elastic_net_param"),
        F.coalesce(F.col("num_trees"), F.lit(20)).alias("num_trees"),
        F.coalesce(F.col("max_depth"), F.lit(5)).alias("max_depth"),
        F.coalesce(F.col("train_fraction"), F.lit(0.8)).alias("train_fraction"),
        F.coalesce(F.col("seed"), F.lit(42).cast("long")).alias("seed"),
    )


def to_model_spec(active_rows: list) -> ModelSpec:
    """Exactly one active configuration, with a known algorithm, or a clear error."""
    if len(active_rows) != 1:
        raise ValueError(f"model_config must have exactly one active row, found {len(active_rows)}")
    values = active_rows[0].asDict()
    if values["algorithm"] not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {values['algorithm']!r} in model_config; known: {ALGORITHMS}")
    values["numeric_features"] = tuple(values["numeric_features"] or ())
    values["categorical_features"] = tuple(values["categorical_features"])
    return ModelSpec(**values)


def validate_training_rows(training: DataFrame, *, label_col: str,
                           required_features: tuple[str, ...]) -> tuple[DataFrame, DataFrame]:
    """Split training rows into (usable, rejected); the first failing check names the reason."""
    first_of_id = Window.partitionBy("customer_id").orderBy(*training.columns)
    label = F.col(label_col)
    checked = training.withColumn(
        "reject_reason",
        F.coalesce(
            F.when(F.col("customer_id").isNull(), F.lit("missing customer_id")),
            F.when(label.isNull(), F.lit(f"null label {label_col}")),
            F.when(~label.isin(0, 1), F.lit(f"label {label_col} not 0/1")),
            *[F.when(F.col(c).isNull(), F.lit(f"null required feature {c}")) for c in required_features],
            F.when(F.row_number().over(first_of_id) > 1, F.lit("duplicate customer_id")),
        ),
    )
    kept = checked.where(F.col("reject_reason").isNull()).select(*[F.col(c).alias(c) for c in training.columns])
    rejected = as_rejects(
        checked.where(F.col("reject_reason").isNotNull()),
        F.col("reject_reason"),
        F.to_json(F.struct(*[F.col(c) for c in training.columns])),
    )
    return kept, rejected


def behavioural_features(order_summary: DataFrame, sessions: DataFrame) -> DataFrame:
    """Per customer, derived from what the orders and analytics jobs publish.

    From order_summary (one row per customer and order day): avg_order_value (net amount per order),
    orders_last_90d and days_since_last_order, as of the newest order day in the table. From
    real_time_user_analytics (one row per session; user_id is the customer_id): web_sessions_30d,
    the sessions of the 30 days up to the newest session day. A customer with sessions but no
    orders has null order features (imputed in training); one with orders but no session has 0
    sessions. "As of the newest day in the data" makes a rerun on the same data give the same features.
    """
    orders_as_of = order_summary.agg(F.max("order_date").alias("as_of"))
    orders = order_summary.crossJoin(orders_as_of).groupBy("customer_id").agg(
        F.round(F.try_divide(F.sum("total_net_amount"), F.sum("order_count")), 2).alias("avg_order_value"),
        F.sum(F.when(F.col("order_date") > F.date_sub(F.col("as_of"), 90), F.col("order_count"))
              .otherwise(F.lit(0))).cast("int").alias("orders_last_90d"),
        F.datediff(F.max("as_of"), F.max("order_date")).alias("days_since_last_order"),
    )
    sessions_as_of = sessions.agg(F.max("session_date").alias("as_of"))
    recent = sessions.crossJoin(sessions_as_of).where(F.col("session_date") > F.date_sub(F.col("as_of"), 30))
    visits = recent.groupBy(F.col("user_id").alias("customer_id")).agg(
        F.count("session_id").cast("int").alias("web_sessions_30d"))
    return orders.join(visits, on="customer_id", how="full_outer").select(
        F.col("customer_id").alias("customer_id"),
        F.col("avg_order_value").alias("avg_order_value"),
        F.coalesce(F.col("orders_last_90d"), F.lit(0)).alias("orders_last_90d"),
        F.col("days_since_last_order").alias("days_since_last_order"),
        F.coalesce(F.col("web_sessions_30d"), F.lit(0)).alias("web_sessions_30d"),
    )


def join_features(training: DataFrame, features: DataFrame, *, label_col: str,
                  numeric_features: tuple[str, ...], categorical_features: tuple[str, ...]) -> DataFrame:
    """Left join the behavioural features; numeric features become doubles (nulls stay for the imputer)."""
    joined = training.alias("t").join(features.alias("f"), on="customer_id", how="left")
    return joined.select(
        F.col("customer_id").alias("customer_id"),
        F.col(f"t.{label_col}").cast("double").alias("label"),
        *[F.col(c).cast("double").alias(c) for c in numeric_features],
        *[F.lower(F.trim(F.col(c))).alias(c) for c in categorical_features],
        F.col("f.customer_id").isNotNull().alias("has_behaviour_features"),
    )


def assign_split(prepared: DataFrame, *, train_fraction: float, seed: int) -> DataFrame:
    """Tag each row train or test with a seeded randomSplit."""
    train, test = prepared.randomSplit([train_fraction, 1.0 - train_fraction], seed=seed)
    tagged = train.withColumn("split", F.lit("train")).unionByName(test.withColumn("split", F.lit("test")))
    return tagged.select(*[F.col(c).alias(c) for c in prepared.columns], F.col("split").alias("split"))


def _stable_uids(stages: list, model_name: str) -> list:
    """Name each stage after the model and its place, not a random id.

    Spark ML names a stage's saved folder, and the Spark jobs that fit it, after its uid; random
    uids would make every run's lineage name new jobs and datasets.
    """
    for stage in stages:
        uid = f"{model_name}_{type(stage).__name__.lower()}"
        stage._resetUid(uid)
        # The JVM twin was created with the random uid, and the fitted model inherits its uid.
        stage._java_obj = stage._new_java_obj(stage._java_obj.getClass().getName(), uid)
    return stages


def build_pipeline(spec: ModelSpec) -> Pipeline:
    """Imputer, one-hot encoding, assembler and the configured classifier, with stable uids."""
    imputed = [f"{c}_imputed" for c in spec.numeric_features]
    indexed = [f"{c}_index" for c in spec.categorical_features]
    encoded = [f"{c}_vec" for c in spec.categorical_features]
    stages = [Imputer(strategy="median", inputCols=list(spec.numeric_features), outputCols=imputed)]
    if spec.categorical_features:
        # "keep" sends categories unseen in training to an extra index that the encoder drops.
        stages += [
            StringIndexer(inputCols=list(spec.categorical_features), outputCols=indexed, handleInvalid="keep"),
            OneHotEncoder(inputCols=indexed, outputCols=encoded),
        ]
    stages.append(VectorAssembler(inputCols=imputed + encoded, outputCol=RAW_FEATURES))
    if spec.algorithm == "random_forest":
        stages.append(RandomForestClassifier(featuresCol=RAW_FEATURES, labelCol="label", numTrees=spec.num_trees,
                                             maxDepth=spec.max_depth, seed=spec.seed))
    else:
        # Scaled inputs make the coefficients comparable as feature importances.
        stages += [
            StandardScaler(inputCol=RAW_FEATURES, outputCol="features", withStd=True, withMean=False),
            LogisticRegression(featuresCol="features", labelCol="label", maxIter=spec.max_iter,
                               regParam=spec.reg_param, elasticNetParam=spec.elastic_net_param),
        ]
    return Pipeline(stages=_stable_uids(stages, spec.model_name))


def model_card(train: DataFrame, spec: ModelSpec) -> DataFrame:
    """One row that says what the saved model is and what it was trained on."""
    return train.agg(
        F.count("customer_id").alias("training_rows"),
        F.round(F.avg("label"), 4).alias("positive_rate"),
        F.count_if(F.col("has_behaviour_features")).alias("rows_with_behaviour_features"),
    ).select(
        F.lit(spec.model_name).alias("model_name"),
        F.lit(spec.version).alias("model_version"),
        F.lit(spec.algorithm).alias("algorithm"),
        F.lit(spec.label_col).alias("label_col"),
        F.array(*[F.lit(c) for c in spec.numeric_features]).alias("numeric_features"),
        F.array(*[F.lit(c) for c in spec.categorical_features]).alias("categorical_features"),
        F.col("training_rows").alias("training_rows"),
        F.col("positive_rate").alias("positive_rate"),
        F.col("rows_with_behaviour_features").alias("rows_with_behaviour_features"),
    )


def prediction_rows(scored: DataFrame, *, model_name: str, model_version: str) -> DataFrame:
    """The published predictions: class, churn probability and split per customer."""
    return scored.select(
        F.col("customer_id").alias("customer_id"),
        F.col("label").cast("int").alias("label"),
        F.col("prediction").cast("int").alias("prediction"),
        F.round(vector_to_array(F.col("probability"))[1], 6).alias("churn_probability"),
        F.col("split").alias("split"),
        F.col("has_behaviour_features").alias("has_behaviour_features"),
        F.lit(model_name).alias("model_name"),
        F.lit(model_version).alias("model_version"),
    )


def classification_metrics(predictions: DataFrame, auc_by_split: DataFrame) -> DataFrame:
    """Confusion-matrix metrics and counts per split, plus the given AUC, as (metric, value) rows."""
    def hits(label: int, prediction: int):
        return F.sum(((F.col("label") == label) & (F.col("prediction") == prediction)).cast("long"))

    counts = predictions.groupBy("split", "model_name", "model_version").agg(
        hits(1, 1).alias("tp"), hits(0, 1).alias("fp"), hits(1, 0).alias("fn"), hits(0, 0).alias("tn"),
        F.count(F.lit(1)).alias("row_count"),
    )
    precision = F.when(F.col("tp") + F.col("fp") > 0, F.col("tp") / (F.col("tp") + F.col("fp")))
    recall = F.when(F.col("tp") + F.col("fn") > 0, F.col("tp") / (F.col("tp") + F.col("fn")))
    wide = counts.join(auc_by_split, on="split", how="left").select(
        "split", "model_name", "model_version",
        F.col("auc").alias("auc"),
        ((F.col("tp") + F.col("tn")) / F.col("row_count")).alias("accuracy"),
        precision.alias("precision"),
        recall.alias("recall"),
        F.when(precision + recall > 0, 2 * precision * recall / (precision + recall)).alias("f1"),
        F.col("row_count").cast("double").alias("row_count"),
        (F.col("tp") + F.col("fn")).cast("double").alias("positive_count"),
    )
    metrics = ["auc", "accuracy", "precision", "recall", "f1", "row_count", "positive_count"]
    long = wide.unpivot(["split", "model_name", "model_version"], metrics, "metric", "value")
    return long.select(
        F.col("metric").alias("metric"),
        F.round(F.col("value"), 6).alias("value"),
        F.col("split").alias("split"),
        F.col("model_name").alias("model_name"),
        F.col("model_version").alias("model_version"),
    )


def rank_features(weights: DataFrame, *, model_name: str, model_version: str, weight_kind: str) -> DataFrame:
    """Name each expanded feature after its source column and rank by absolute weight."""
    attribute = F.col("attribute_name")
    one_hot = attribute.rlike("_vec_")
    by_magnitude = Window.partitionBy(F.lit(model_name)).orderBy(F.abs("weight").desc(), "feature_index")
    return weights.select(
        F.col("feature_index").alias("feature_index"),
        F.regexp_replace(F.regexp_replace(attribute, "_imputed$", ""), "_vec_", "=").alias("feature_name"),
        F.regexp_extract(attribute, r"^(.+?)(_imputed|_vec_.*)$", 1).alias("source_column"),
        F.when(one_hot, F.lit("one_hot")).otherwise(F.lit("numeric")).alias("feature_kind"),
        F.lit(weight_kind).alias("weight_kind"),
        F.round(F.col("weight"), 6).alias("weight"),
        F.round(F.abs("weight"), 6).alias("abs_weight"),
        F.rank().over(by_magnitude).alias("importance_rank"),
        F.lit(model_name).alias("model_name"),
        F.lit(model_version).alias("model_version"),
    )


def feature_weights(model: PipelineModel, scored: DataFrame) -> tuple[list[tuple[int, str, float]], str]:
    """(index, assembler attribute name, weight) per feature, and whether weights are coefficients."""
    attrs = scored.schema[RAW_FEATURES].metadata["ml_attr"]["attrs"]
    names = {a["idx"]: a["name"] for group in attrs.values() for a in group}
    classifier = model.stages[-1]
    if hasattr(classifier, "coefficients"):
        values, kind = classifier.coefficients.toArray(), "coefficient"
    else:
        values, kind = classifier.featureImportances.toArray(), "importance"
    return [(i, names[i], float(v)) for i, v in enumerate(values)], kind


def area_under_roc(predictions: DataFrame) -> DataFrame:
    """(split, auc) from the published churn probabilities, computed as a DataFrame.

    The area under the ROC curve is the Mann-Whitney statistic: the chance that a churner scores above a
    non-churner, ties counting half (the trapezoidal area Spark's BinaryClassificationEvaluator gives):
    (sum of the churners' ranks - n_pos (n_pos + 1) / 2) / (n_pos n_neg), tied scores sharing their mean
    rank. Unlike the evaluator (RDD jobs the official lineage listener can only name by their job
    number), this is planned SQL: its lineage is column lineage, and its Spark jobs have stable names.
    """
    by_score = Window.partitionBy("split").orderBy("churn_probability")
    ranked = predictions.select("split", "label", "churn_probability", F.row_number().over(by_score).alias("rn"))
    tied = ranked.groupBy("split", "churn_probability").agg(
        F.avg("rn").alias("mean_rank"), F.sum("label").alias("positives"), F.count(F.lit(1)).alias("rows"))
    totals = tied.groupBy("split").agg(
        F.sum(F.col("mean_rank") * F.col("positives")).alias("rank_sum"),
        F.sum("positives").alias("n_pos"), F.sum("rows").alias("n"))
    n_pos, n_neg = F.col("n_pos"), F.col("n") - F.col("n_pos")
    auc = F.when((n_pos > 0) & (n_neg > 0), (F.col("rank_sum") - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))
    return totals.select(F.col("split").alias("split"), auc.cast("double").alias("auc"))


def prepare_dataset(run: JobRun, spec: ModelSpec) -> tuple[DataFrame, DataFrame]:
    """(Usable training rows joined to their features and split, rejected training rows)."""
    training = run.read("training_data")
    required = tuple(
        c for c in (*spec.numeric_features, *spec.categorical_features)
        if c in training.columns and c not in IMPUTABLE_TRAINING_FEATURES
    )
    usable, rejected = validate_training_rows(training, label_col=spec.label_col, required_features=required)
    features = behavioural_features(run.read("order_summary"), run.read("real_time_user_analytics"))
    dataset = (
        usable.transform(join_features, features, label_col=spec.label_col,
                         numeric_features=spec.numeric_features, categorical_features=spec.categorical_features)
        .transform(assign_split, train_fraction=spec.train_fraction, seed=spec.seed)
        # A training set this size fits a partition per core; many tiny partitions would multiply
        # the tasks of every optimiser iteration. Cached: fitted iteratively, then scored.
        .coalesce(run.spark.sparkContext.defaultParallelism)
        .cache()
    )
    return dataset, rejected


def execute(run: JobRun) -> None:
    min_auc = float(job_settings("ml")["min_auc"])
    configs, malformed = split_corrupt(run.read("model_config", MODEL_CONFIG_SCHEMA))
    spec = to_model_spec(configs.transform(active_model_config).collect())
    dataset, rejected = prepare_dataset(run, spec)
    train = dataset.where(F.col("split") == "train")
    run.save_model("trained_model", build_pipeline(spec).fit(train), train.transform(model_card, spec))
    # Score with the model as published. Reloading also drops the training summary, whose
    # reference to the Spark session cannot be serialised into tasks once rows are observed.
    model = run.load_model("trained_model", PipelineModel)
    scored = model.transform(dataset)
    run.write("model_predictions", scored.transform(
        prediction_rows, model_name=spec.model_name, model_version=spec.version))
    # The metrics are those of the predictions as published: read back, the table scored once, and
    # model_metrics' lineage names model_predictions.
    published = run.read_back("model_predictions")
    metrics = published.transform(classification_metrics, published.transform(area_under_roc))
    run.write("model_metrics", metrics)
    weights, kind = feature_weights(model, scored)
    weights_df = run.spark.createDataFrame(weights, "feature_index int, attribute_name string, weight double")
    run.write("feature_importance", weights_df.transform(
        rank_features, model_name=spec.model_name, model_version=spec.version, weight_kind=kind))
    run.reject("model_config", malformed)
    run.reject("training_data", rejected)
    dataset.unpersist()

    test_auc = run.read_back("model_metrics").where("metric = 'auc' AND split = 'test'").first()["value"]
    if test_auc is None or test_auc < min_auc:
        raise ValueError(f"test AUC {test_auc} is below ml.min_auc {min_auc}: do not deploy this model")


def main() -> int:
    with JobRun("ml_pipeline") as run:
        execute(run)
    return run.exit_code


if __name__ == "__main__":
    sys.exit(main())
