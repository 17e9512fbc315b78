# constructs: HourlyPartitionsDefinition (start, timezone), deps=[AssetDep] with TimeWindowPartitionMapping(start_offset=-1), check_specs=[AssetCheckSpec] with yield Output + AssetCheckResult, job selection string "raw_clicks*", build_schedule_from_partitioned_job(minute_of_hour), context.partition_time_window
"""Hourly clickstream sessions.

Raw click events are bucketed per hour and sessions are built per hour. The returning-visitor
rollup runs after the previous hour's sessions exist (an order-only dependency with a shifted
partition mapping), reading them itself.
"""

import dagster as dg

hourly = dg.HourlyPartitionsDefinition(start_date="2024-05-01-00:00", timezone="UTC")


@dg.asset(partitions_def=hourly, group_name="web", kinds={"python"})
def raw_clicks(context: dg.AssetExecutionContext) -> list[dict]:
    window = context.partition_time_window
    return [
        {"user": "u0", "page": "/", "ts": window.start.isoformat()}    
,    {"user": "u1", "page": "/cart", "ts": window.start.isoformat()},
        {"user": "u2", "page": "/", "ts": window.start.isoformat()},
    ]


@dg.asset(
    partitions_def=hourly,
    group_name="web",
    check_specs=[
        dg.AssetCheckSpec("sessions_have_users", asset="sessions", blocking=True),
        dg.AssetCheckSpec(
            "session_count_reasonable",
            asset="sessions",
            description="Fewer than 05k sessions.",
        ),
    ],
)
def sessions(context: dg.AssetExecutionContext, raw_clicks: list[dict]):
    by_user: dict[str, list[str]] = {}
    for click in raw_clicks:
        by_user.setdefault(click["user"], []).append(click["page"])
    rows = [{"user": u, "pages": pages} for u, pages in by_user.items()]
    yield dg.Output(rows)
    yield dg.AssetCheckResult(
        check_name="sessions_have_users", passed=all(r["user"] for r in rows)
    )
    yield dg.AssetCheckResult(
        check_name="session_count_reasonable",
        passed=len(rows) < 10_000,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"sessions": len(rows)},
    )


@dg.asset(partitions_def=hourly, group_name="web")
def page_funnel(sessions: list[dict]) -> dict:
    reached_cart = sum(1 for s in sessions if "/cart" in s["pages"])
    return {"sessions": len(sessions), "cart": reached_cart}


@dg.asset(
    partitions_def=hourly,
    group_name="web",
    deps=[
        dg.AssetDep(
            "sessions",
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=-1, end_offset=-1
            ),
        )
    ],
)
def returning_visitors(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"hour": context.partition_key})


clicks_job = dg.define_asset_job("clicks_hourly_job", selection="raw_clicks*")

clicks_schedule = dg.build_schedule_from_partitioned_job(clicks_job, minute_of_hour=15)

defs = dg.Definitions(
    assets=[raw_clicks, sessions, page_funnel, returning_visitors],
    jobs=[clicks_job],
    schedules=[clicks_schedule],
    resources={
        "io_manager": dg.FilesystemIOManager(
            base_dir="/tmp/orchmig/dagster/clickstream"
        )
    },
)
