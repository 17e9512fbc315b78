# constructs: partition_key flow parameter (partition axis), prefect.runtime flow_run fields in a task, loop over range(...) (unrolled), chained tasks per partition, to_deployment(schedules=[CronSchedule(...)]) and IntervalSchedule with prefect.deploy(...), deployment parameters
"""Warehouse backfill of hourly fact partitions.

Rebuilds the hourly fact table for one partition key: stages three hourly slices,
merges them and swaps the partition in.
"""

from datetime import timedelta

from prefect import deploy, flow, task
from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule
from prefect.runtime import flow_run

FACTS = {0: [3, 4], 1: [5], 2: [1, 1, 2]}


@task
def stage_slice(partition_key: str, hour: int) -> dict:
    return {"partition": partition_key, "hour": hour, "rows": list(FACTS[hour])}


@task
def merge(slices: list[dict]) -> dict:
    rows = [r for s in slices for r in s["rows"]]
    return {"rows": rows, "count": len(rows)}


@task
def swap_partition(merged: dict, partition_key: str) -> dict:
    return {"partition": partition_key, "count": merged["count"], "run": flow_run.name}


@flow(retries=2, retry_delay_seconds=10)
def warehouse_backfill(partition_key: str = "2024-03-01") -> dict:
    slices = []
    for hour in range(3):
        slices.append(stage_slice(partition_key, hour))
    merged = merge(slices)
    return swap_partition(merged, partition_key)


if __name__ == "__main__":
    deploy(
        warehouse_backfill.to_deployment(
            name="backfill-daily",
            schedules=[CronSchedule(cron="0 4 * * *", timezone="UTC")],
            parameters={"partition_key": "2024-03-01"},
        ),
        warehouse_backfill.to_deployment(
            name="backfill-catchup",
            schedules=[IntervalSchedule(interval=timedelta(hours=6))],
        ),
        work_pool_name="warehouse-pool",
        image="registry.example.com/warehouse:2024.03",
        build=False,
    )
