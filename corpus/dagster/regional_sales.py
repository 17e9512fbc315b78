# constructs: @asset(name=), StaticPartitionsDefinition from a module-level list, define_asset_job(AssetSelection.all() - AssetSelection.groups(...)), build_schedule_from_partitioned_job(cron_schedule, execution_timezone) for static partitions, deps from unpartitioned to partitioned asset, context.partition_key
"""Regional sales rollup, one partition per sales region."""

import dagster as dg

REGIONS = ["emea", "amer", "apac"]
region_partitions = dg.StaticPartitionsDefinition(REGIONS)

_SALES = {
    "emea": [120.0, 80.5],
    "amer": [310.0, 42.0, 18.25],
    "apac": [75.0],
}


@dg.asset(partitions_def=region_partitions, group_name="sales")
def regional_sales(context: dg.AssetExecutionContext) -> list[float]:
    return list(_SALES[context.partition_key])


@dg.asset(partitions_def=region_partitions, group_name="sales")
def regional_summary(
    context: dg.AssetExecutionContext, regional_sales: list[float]
) -> dict:
    return {
        "region": context.partition_key,
        "total": sum(regional_sales),
        "orders": len(regional_sales),
    }


regional_job = dg.define_asset_job(
    "regional_sales_job",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("reporting"),
    partitions_def=region_partitions,
)

regional_schedule = dg.build_schedule_from_partitioned_job(
    regional_job, cron_schedule="0 5 * * *", execution_timezone="America/New_York"
)


@dg.asset(
    name="sales_dashboard_refresh", group_name="reporting", deps=[regional_summary]
)
def refresh_dashboard() -> None:
    """Marks the dashboard stale once summaries change (no data is passed)."""


defs = dg.Definitions(
    assets=[regional_sales, regional_summary, refresh_dashboard],
    jobs=[regional_job],
    schedules=[regional_schedule],
)
