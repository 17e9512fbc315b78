# constructs: @dag with params and a daily cron (no partitions), a task taking **context that reads context["params"] and context["ds"], get_current_context() in a task body, a ds_nodash=None context argument
"""Daily ad-spend export.

Pulls the day's spend per channel from an in-memory ledger, drops channels under the floor
set in the DAG's params, converts to the requested currency and names the export file by
the run's date.
"""

import pendulum
from airflow.sdk import dag, get_current_context, task

SPEND = {"search": 1200.0, "social": 830.5, "video": 410.25}
RATES = {"EUR": 1.0, "USD": 1.08, "GBP": 0.86}


@dag(
    schedule="30 4 * * *",
    start_date=pendulum.datetime(2024, 3, 1, tz="UTC"),
    catchup=False,
    params={"currency": "EUR", "min_spend": 500},
    tags=["marketing"],
)
def ad_spend_export():
    @task
    def pull_spend(**context) -> dict:
        floor = context["params"]["min_spend"]
        rows = {channel: v for channel, v in SPEND.items() if v >= floor}
        return {"day": context["ds"], "rows": rows}

    @task
    def convert(spend: dict) -> dict:
        ctx = get_current_context()
        rate = RATES[ctx["params"]["currency"]]
        return {channel: round(v * rate, 2) for channel, v in spend["rows"].items()}

    @task
    def write_summary(converted: dict, ds_nodash=None) -> str:
        return f"spend_{ds_nodash}.csv: {sum(converted.values()):.2f}"

    write_summary(convert(pull_spend()))


ad_spend_export()
