# constructs: MultiPartitionsDefinition(date x region), DynamicPartitionsDefinition(name=), ConfigurableResource typed param (not a dep), required_resource_keys, Config param, AssetSelection & | - with tag/groups/downstream, resources by key, context.partition_key.keys_by_dimension through an isinstance check on dg.MultiPartitionKey, context.run.run_id and context.asset_key in a log line
"""Feature store for the churn model.

Daily customer features are computed per region (a date x region multi-partition); model versions
are registered as dynamic partitions and scored against the latest features.
"""

import dagster as dg

daily_by_region = dg.MultiPartitionsDefinition(
    {
        "date": dg.DailyPartitionsDefinition(start_date="2024-06-01"),
        "region": dg.StaticPartitionsDefinition(["eu", "us"]),
    }
)
model_versions = dg.DynamicPartitionsDefinition(name="churn_model_versions")


class FeatureWarehouse(dg.ConfigurableResource):
    """A stand-in for the feature warehouse: hands out in-memory rows."""

    schema_name: str = "features"

    def customers(self, region: str) -> list[dict]:
        return [
            {"id": f"{region}-{i}", "tenure": i * 3, "tickets": i % 2}
            for i in range(1, 4)
        ]


class FeatureFlags(dg.ConfigurableResource):
    """Feature switches read by the scoring step."""

    use_tickets: bool = True


class ScoringConfig(dg.Config):
    threshold: float = 0.5


@dg.asset(partitions_def=daily_by_region, group_name="features", tags={"tier": "gold"})
def customer_features(
    context: dg.AssetExecutionContext, warehouse: FeatureWarehouse
) -> list[dict]:
    key = context.partition_key
    assert isinstance(key, dg.MultiPartitionKey), "keyed by date and region"
    keys = key.keys_by_dimension
    context.log.info(
        "building %s in run %s", context.asset_key.to_user_string(), context.run.run_id
    )
    return [dict(row, day=keys["date"]) for row in warehouse.customers(keys["region"])]


@dg.asset(
    partitions_def=daily_by_region, group_name="features", tags={"tier": "silver"}
)
def feature_stats(customer_features: list[dict]) -> dict:
    n = len(customer_features)
    return {
        "customers": n,
        "mean_tenure": sum(c["tenure"] for c in customer_features) / n,
    }


@dg.asset(partitions_def=model_versions, group_name="models", kinds={"python"})
def churn_model(context: dg.AssetExecutionContext) -> dict:
    return {
        "version": context.partition_key,
        "weights": {"tenure": -0.05, "tickets": 0.4},
    }


@dg.asset(
    partitions_def=model_versions,
    group_name="models",
    required_resource_keys={"feature_flags"},
)
def churn_scores(
    context: dg.AssetExecutionContext, config: ScoringConfig, churn_model: dict
):
    use_tickets = context.resources.feature_flags.use_tickets
    weights = churn_model["weights"]
    score = weights["tenure"] * 6 + (weights["tickets"] if use_tickets else 0.0)
    return {"model": churn_model["version"], "at_risk": score > config.threshold}


gold_features_job = dg.define_asset_job(
    "gold_features_job",
    selection=dg.AssetSelection.groups("features")
    & dg.AssetSelection.tag("tier", "gold"),
    partitions_def=daily_by_region,
)

scoring_job = dg.define_asset_job(
    "scoring_job",
    selection=dg.AssetSelection.assets(churn_model).downstream()
    - dg.AssetSelection.assets(churn_model),
    partitions_def=model_versions,
)

defs = dg.Definitions(
    assets=[customer_features, feature_stats, churn_model, churn_scores],
    jobs=[gold_features_job, scoring_job],
    resources={
        "warehouse": FeatureWarehouse(schema_name="churn"),
        "feature_flags": FeatureFlags(use_tickets=False),
        "io_manager": dg.FilesystemIOManager(base_dir="/tmp/orchmig/dagster/features"),
    },
)
