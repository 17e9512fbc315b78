# constructs: TimeWindowPartitionsDefinition(cron_schedule, fmt, start, end, timezone, end_offset), datetime start, ins/AssetIn(partition_mapping=TimeWindowPartitionMapping), @asset_check(blocking, partitions_def) with AssetCheckSeverity, define_asset_job(selection="key:...+"), @schedule(job=) with RunRequest, io_manager_key
"""Payment reconciliation every six hours.

Card settlements are matched against ledger postings for each six-hour window, in Singapore
time. A matching asset reads the settlements of its own window.
"""

from datetime import datetime

import dagster as dg

six_hourly = dg.TimeWindowPartitionsDefinition(
    cron_schedule="0 */6 * * *",
    start=datetime(2024, 7, 1, 0, 0),
    end="2030-01-01-00:00",
    fmt="%Y-%m-%d-%H:%M",
    timezone="Asia/Singapore",
    end_offset=0,
)

_SETTLEMENTS = [("tx1", 10.0), ("tx2", 25.5), ("tx3", 4.2)]
_POSTINGS = [("tx1", 10.0), ("tx2", 25.5)]


@dg.asset(
    partitions_def=six_hourly, group_name="payments", io_manager_key="payments_io"
)
def card_settlements(context: dg.AssetExecutionContext) -> list[tuple]:
    context.log.info("window %s", context.partition_time_window)
    return list(_SETTLEMENTS)


@dg.asset(partitions_def=six_hourly, group_name="payments")
def ledger_postings() -> list[tuple]:
    return list(_POSTINGS)


@dg.asset(
    partitions_def=six_hourly,
    group_name="payments",
    ins={
        "settlements": dg.AssetIn(
            "card_settlements",
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=0, end_offset=0
            ),
        ),
        "postings": dg.AssetIn("ledger_postings"),
    },
)
def unmatched_payments(settlements: list[tuple], postings: list[tuple]) -> list[str]:
    posted = {tx for tx, _ in postings}
    return [tx for tx, _ in settlements if tx not in posted]


@dg.asset_check(
    asset=unmatched_payments,
    blocking=True,
    description="Unmatched share stays small.",
    partitions_def=six_hourly,
)
def unmatched_share(context, unmatched_payments: list[str]) -> dg.AssetCheckResult:
    share = len(unmatched_payments) / len(_SETTLEMENTS)
    return dg.AssetCheckResult(
        passed=share < 0.5,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"share": share},
    )


reconciliation_job = dg.define_asset_job(
    "reconciliation_job",
    selection="key:card_settlements+ or key:ledger_postings",
    partitions_def=six_hourly,
)


@dg.schedule(
    job=reconciliation_job,
    cron_schedule="30 */6 * * *",
    execution_timezone="Asia/Singapore",
)
def reconciliation_schedule(context: dg.ScheduleEvaluationContext):
    key = six_hourly.get_last_partition_key(
        current_time=context.scheduled_execution_time
    )
    return dg.RunRequest(run_key=key, partition_key=key)


defs = dg.Definitions(
    assets=[card_settlements, ledger_postings, unmatched_payments],
    asset_checks=[unmatched_share],
    jobs=[reconciliation_job],
    schedules=[reconciliation_schedule],
    resources={
        "io_manager": dg.FilesystemIOManager(base_dir="/tmp/orchmig/dagster/payments"),
        "payments_io": dg.FilesystemIOManager(
            base_dir="/tmp/orchmig/dagster/payments_raw"
        ),
    },
)
