# constructs: @asset chain with parameter deps, module-level DailyPartitionsDefinition (tz, hour_offset), group_name, owners, tags, kinds, code_version, metadata, RetryPolicy(Backoff, Jitter), op_tags pool, define_asset_job([assets]), build_schedule_from_partitioned_job, context.partition_key, add_output_metadata, FilesystemIOManager
"""Daily e-commerce orders.

Each day's raw orders are pulled from an in-memory fixture, cancelled orders are dropped and the
revenue per product category is computed. One partition per calendar day in Paris time.
"""

import dagster as dg

DAILY = dg.DailyPartitionsDefinition(
    start_date="2024-03-01", hour_offset=2, timezone="Europe/Paris"
)

ORDER_RETRY = dg.RetryPolicy(
    max_retries=3, delay=10, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)

_FIXTURE = [
    {"order_id": 1, "category": "books", "amount": 12.5, "status": "paid"},
    {"order_id": 2, "category": "games", "amount": 59.0, "status": "paid"},
    {"order_id": 3, "category": "books", "amount": 8.0, "status": "cancelled"},
    {"order_id": 4, "category": "garden", "amount": 31.2, "status": "paid"},
]


@dg.asset(
    partitions_def=DAILY,
    group_name="commerce",
    owners=["team:commerce-data"],
    tags={"domain": "sales"},
    kinds={"python"},
    code_version="2",
    metadata={"source": "orders fixture"},
    retry_policy=ORDER_RETRY,
    op_tags={"dagster/concurrency_key": "orders_db"},
)
def raw_orders(context: dg.AssetExecutionContext) -> list[dict]:
    """Orders placed during the partition's day."""
    day = context.partition_key
    rows = [dict(row, day=day) for row in _FIXTURE]
    context.add_output_metadata({"rows": len(rows)})
    return rows


@dg.asset(
    partitions_def=DAILY,
    group_name="commerce",
    description="Orders that were not cancelled.",
    kinds={"python"},
)
def clean_orders(raw_orders: list[dict]) -> list[dict]:
    return [row for row in raw_orders if row["status"] != "cancelled"]


@dg.asset(partitions_def=DAILY, group_name="commerce", owners=["ana@example.com"])
def category_revenue(
    context: dg.AssetExecutionContext, clean_orders: list[dict]
) -> dict:
    totals: dict[str, float] = {}
    for row in clean_orders:
        totals[row["category"]] = totals.get(row["category"], 0.0) + row["amount"]
    context.log.info("revenue for %s: %s", context.partition_key, totals)
    return totals


commerce_assets = [raw_orders, clean_orders, category_revenue]

orders_daily_job = dg.define_asset_job(
    "orders_daily_job",
    selection=commerce_assets,
    partitions_def=DAILY,
    tags={"team": "commerce"},
    description="Materialise one day of orders.",
)

orders_daily_schedule = dg.build_schedule_from_partitioned_job(
    orders_daily_job, hour_of_day=6, minute_of_hour=30
)

defs = dg.Definitions(
    assets=commerce_assets,
    jobs=[orders_daily_job],
    schedules=[orders_daily_schedule],
    resources={
        "io_manager": dg.FilesystemIOManager(
            base_dir="/tmp/orchmig/dagster/orders_daily"
        )
    },
)
