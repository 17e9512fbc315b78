# constructs: WeeklyPartitionsDefinition(day_offset) and MonthlyPartitionsDefinition(end_date), automation_condition (eager, on_cron), FreshnessPolicy.time_window, BackfillPolicy, @schedule(cron, job, execution_timezone) yielding RunRequest(partition_key), AssetSelection.assets(...).downstream(), owners
"""Finance close: weekly cash positions and the monthly ledger close."""

from datetime import timedelta

import dagster as dg

WEEKLY = dg.WeeklyPartitionsDefinition(start_date="2024-01-01", day_offset=1)
MONTHLY = dg.MonthlyPartitionsDefinition(start_date="2024-01-01", end_date="2026-01-01")

_LEDGER = [("cash", 1200.0), ("receivables", 300.0), ("payables", -450.0)]


@dg.asset(
    partitions_def=WEEKLY,
    group_name="treasury",
    owners=["team:treasury"],
    automation_condition=dg.AutomationCondition.on_cron("0 8 * * 2"),
)
def weekly_cash_position(context: dg.AssetExecutionContext) -> float:
    """Cash on hand at the end of the partition's week."""
    return sum(amount for account, amount in _LEDGER if account == "cash")


@dg.asset(
    partitions_def=MONTHLY,
    group_name="ledger",
    owners=["team:accounting", "cfo@example.com"],
    backfill_policy=dg.BackfillPolicy.single_run(),
    freshness_policy=dg.FreshnessPolicy.time_window(fail_window=timedelta(days=3)),
)
def ledger_entries(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    context.log.info("closing %s", context.partition_key)
    return dg.MaterializeResult(metadata={"entries": len(_LEDGER)})


@dg.asset(
    partitions_def=MONTHLY,
    group_name="ledger",
    deps=[ledger_entries],
    automation_condition=dg.AutomationCondition.eager(),
)
def trial_balance() -> dg.MaterializeResult:
    balance = sum(amount for _, amount in _LEDGER)
    return dg.MaterializeResult(metadata={"balance": balance})


@dg.asset(partitions_def=MONTHLY, group_name="ledger", deps=[trial_balance])
def close_report() -> None:
    pass


month_close_job = dg.define_asset_job(
    "month_close_job",
    selection=dg.AssetSelection.assets(ledger_entries).downstream(),
    partitions_def=MONTHLY,
)


@dg.schedule(
    cron_schedule="0 9 2 * *",
    job=month_close_job,
    execution_timezone="Europe/London",
)
def month_close_schedule(context: dg.ScheduleEvaluationContext):
    """Close the month that just ended, on the second day of the next month."""
    scheduled = context.scheduled_execution_time
    previous = scheduled.replace(day=1) - timedelta(days=1)
    yield dg.RunRequest(partition_key=previous.strftime("%Y-%m-01"))


defs = dg.Definitions(
    assets=[weekly_cash_position, ledger_entries, trial_balance, close_report],
    jobs=[month_close_job],
    schedules=[month_close_schedule],
)
