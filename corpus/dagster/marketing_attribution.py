# constructs: @multi_asset with outs/AssetOut (key_prefix, group_name, io_manager_key, description), multi_asset ins/AssetIn, downstream assets of multi-asset outs, AssetSelection.groups job, ScheduleDefinition, InMemoryIOManager under a second key, MaterializeResult
"""Marketing attribution.

Touchpoints are attributed to channels with a last-touch model; one computation yields both the
channel totals and the campaign totals, which feed the weekly budget recommendation.
"""

import dagster as dg

_TOUCHPOINTS = [
    {"user": "u1", "channel": "search", "campaign": "spring", "converted": True},
    {"user": "u2", "channel": "social", "campaign": "spring", "converted": False},
    {"user": "u3", "channel": "email", "campaign": "loyalty", "converted": True},
    {"user": "u1", "channel": "email", "campaign": "loyalty", "converted": True},
]


@dg.asset(group_name="marketing", kinds={"python"})
def touchpoints() -> list[dict]:
    """Marketing touchpoints from the tracking fixture."""
    return list(_TOUCHPOINTS)


@dg.multi_asset(
    outs={
        "channel_attribution": dg.AssetOut(
            key_prefix=["marketing"],
            group_name="marketing",
            description="Conversions credited to each channel.",
        ),
        "campaign_attribution": dg.AssetOut(
            key_prefix=["marketing"],
            group_name="marketing",
            io_manager_key="scratch_io",
        ),
    },
    ins={"events": dg.AssetIn("touchpoints")},
    retry_policy=dg.RetryPolicy(max_retries=2),
)
def attribute_conversions(events: list[dict]):
    channels: dict[str, int] = {}
    campaigns: dict[str, int] = {}
    for e in events:
        if e["converted"]:
            channels[e["channel"]] = channels.get(e["channel"], 0) + 1
            campaigns[e["campaign"]] = campaigns.get(e["campaign"], 0) + 1
    return channels, campaigns


@dg.asset(
    group_name="marketing",
    ins={"channels": dg.AssetIn(key=["marketing", "channel_attribution"])},
)
def budget_recommendation(channels: dict) -> dict:
    total = sum(channels.values()) or 1
    return {channel: round(n / total, 2) for channel, n in channels.items()}


@dg.asset(
    group_name="reporting",
    deps=[budget_recommendation, dg.AssetKey(["marketing", "campaign_attribution"])],
)
def attribution_report() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"sections": 2})


attribution_job = dg.define_asset_job(
    "attribution_job", selection=dg.AssetSelection.groups("marketing")
)

weekday_schedule = dg.ScheduleDefinition(
    name="attribution_weekdays", cron_schedule="0 7 * * 1-5", job=attribution_job
)

defs = dg.Definitions(
    assets=[
        touchpoints,
        attribute_conversions,
        budget_recommendation,
        attribution_report,
    ],
    jobs=[attribution_job],
    schedules=[weekday_schedule],
    resources={
        "io_manager": dg.FilesystemIOManager(base_dir="/tmp/orchmig/dagster/marketing"),
        "scratch_io": dg.InMemoryIOManager(),
    },
)
