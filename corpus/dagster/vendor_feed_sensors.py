# constructs: @sensor(job=, minimum_interval_seconds) with RunRequest(run_key), @asset_sensor(asset_key=AssetKey, job=), AssetSpec external asset, define_asset_job(selection=[names]), InMemoryIOManager as io_manager, SkipReason
"""Vendor price feed ingestion, triggered by sensors.

A polling sensor starts the landing job when new feed files appear in the (in-memory) inbox; an
asset sensor rebuilds the price index whenever the landed prices are materialised.
"""

import dagster as dg

INBOX = ["prices_2024_05_01.csv", "prices_2024_05_02.csv"]

vendor_feed = dg.AssetSpec(
    "vendor_feed", description="Files the vendor drops in the inbox."
)


@dg.asset(deps=[vendor_feed], group_name="landing")
def landed_prices() -> list[dict]:
    return [{"sku": "A1", "price": 3.2}, {"sku": "B7", "price": 12.0}]


@dg.asset(group_name="landing")
def validated_prices(landed_prices: list[dict]) -> list[dict]:
    return [row for row in landed_prices if row["price"] > 0]


@dg.asset(group_name="pricing")
def price_index(validated_prices: list[dict]) -> float:
    return sum(row["price"] for row in validated_prices) / max(len(validated_prices), 1)


landing_job = dg.define_asset_job(
    "landing_job", selection=["landed_prices", "validated_prices"]
)
index_job = dg.define_asset_job("index_job", selection=["price_index"])


@dg.sensor(
    job=landing_job, minimum_interval_seconds=120, description="New files in the inbox"
)
def inbox_sensor(context: dg.SensorEvaluationContext):
    seen = set((context.cursor or "").split(","))
    new = [name for name in INBOX if name not in seen]
    if not new:
        return dg.SkipReason("no new files")
    context.update_cursor(",".join(sorted(seen | set(new))))
    return [dg.RunRequest(run_key=name) for name in new]


@dg.asset_sensor(asset_key=dg.AssetKey("validated_prices"), job=index_job)
def validated_prices_sensor(context: dg.SensorEvaluationContext, asset_event):
    yield dg.RunRequest(run_key=context.cursor)


defs = dg.Definitions(
    assets=[vendor_feed, landed_prices, validated_prices, price_index],
    jobs=[landing_job, index_job],
    sensors=[inbox_sensor, validated_prices_sensor],
    resources={"io_manager": dg.InMemoryIOManager()},
)
