# constructs: BranchPythonOperator, ShortCircuitOperator, @task.short_circuit, trigger_rule all_done / one_failed / none_failed_min_one_success, EmptyOperator join, "@daily", catchup False
"""Data-quality gate for the daily ledger feed.

Checks the incoming ledger batch, branches to a full or incremental load,
skips the publish step entirely on bank holidays, and always cleans up the
scratch area. An alert fires only if one of the load paths failed.
"""

from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import (
    BranchPythonOperator,
    ShortCircuitOperator,
)
from airflow.sdk import DAG, task

LEDGER_BATCH = [
    {"entry": "E-1", "debit": 120.0, "credit": 0.0},
    {"entry": "E-2", "debit": 0.0, "credit": 120.0},
    {"entry": "E-3", "debit": 35.5, "credit": 35.5},
]
BANK_HOLIDAYS = {"2024-01-01", "2024-05-01", "2024-12-25"}


def choose_load_mode() -> str:
    unbalanced = [
        row["entry"] for row in LEDGER_BATCH if row["debit"] < 0 or row["credit"] < 0
    ]
    if unbalanced:
        return "full_reload"
    return "incremental_load"


def batch_is_balanced() -> bool:
    debits = sum(row["debit"] for row in LEDGER_BATCH)
    credits = sum(row["credit"] for row in LEDGER_BATCH)
    return abs(debits - credits) < 0.01


with DAG(
    dag_id="data_quality_gate",
    schedule="@daily",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    default_args={"owner": "finance-data", "retries": 1},
    tags=["finance", "quality"],
) as dag:
    balanced = ShortCircuitOperator(
        task_id="batch_is_balanced", python_callable=batch_is_balanced
    )
    branch = BranchPythonOperator(
        task_id="choose_load_mode", python_callable=choose_load_mode
    )
    full = BashOperator(
        task_id="full_reload", bash_command="echo reloading ledger {{ ds }}"
    )
    incremental = BashOperator(
        task_id="incremental_load", bash_command="echo appending ledger {{ ds }}"
    )
    joined = EmptyOperator(task_id="loaded", trigger_rule="none_failed_min_one_success")
    alert = BashOperator(
        task_id="alert_on_failure",
        bash_command="echo ledger load failed",
        trigger_rule="one_failed",
    )
    cleanup = BashOperator(
        task_id="cleanup_scratch",
        bash_command="echo cleaning scratch",
        trigger_rule="all_done",
    )

    @task.short_circuit
    def not_a_bank_holiday(ds=None) -> bool:
        return ds not in BANK_HOLIDAYS

    @task
    def publish_ledger() -> str:
        rows = len(LEDGER_BATCH)
        print(f"publishing {rows} ledger entries")
        return f"published:{rows}"

    balanced >> branch >> [full, incremental] >> joined
    [full, incremental] >> alert
    joined >> not_a_bank_holiday() >> publish_ledger() >> cleanup

if __name__ == "__main__":
    dag.test()
