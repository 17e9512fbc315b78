# constructs: bound-variable data edges (x = extract(); match(x)), mixed TaskFlow/classic wiring (taskflow >> BashOperator, PythonOperator.output into @task), << with lists on both sides, execution_timeout/pool on classic ops, catchup False, pendulum tz start_date
"""Daily bank-to-ledger reconciliation.

Matches bank statement lines against ledger entries, writes the unmatched
items to a report via a classic BashOperator, and mixes TaskFlow tasks with
classic operators in both directions.
"""

from datetime import timedelta

import pendulum
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, task


def fetch_ledger() -> list[dict]:
    return [
        {"ref": "INV-1", "amount": 250.0},
        {"ref": "INV-2", "amount": 99.9},
        {"ref": "INV-4", "amount": 18.0},
    ]


with DAG(
    dag_id="finance_reconciliation",
    schedule="0 22 * * 1-5",
    start_date=pendulum.datetime(2024, 1, 2, tz="Europe/Paris"),
    catchup=False,
    default_args={
        "owner": "treasury",
        "retries": 2,
        "retry_delay": timedelta(minutes=3),
    },
    tags=["finance"],
) as dag:
    opened = EmptyOperator(task_id="books_open")
    calendar_checked = EmptyOperator(task_id="calendar_checked")
    ledger = PythonOperator(
        task_id="fetch_ledger",
        python_callable=fetch_ledger,
        execution_timeout=timedelta(minutes=5),
        pool="default_pool",
    )

    @task
    def fetch_bank_statement() -> list[dict]:
        return [
            {"ref": "INV-1", "amount": 250.0},
            {"ref": "INV-2", "amount": 99.0},
            {"ref": "INV-3", "amount": 42.0},
        ]

    @task
    def match(bank: list[dict], ledger_rows: list[dict]) -> list[str]:
        ledger_by_ref = {row["ref"]: row["amount"] for row in ledger_rows}
        unmatched = []
        for line in bank:
            if abs(ledger_by_ref.get(line["ref"], -1.0) - line["amount"]) > 0.005:
                unmatched.append(line["ref"])
        return sorted(unmatched)

    bank = fetch_bank_statement()
    unmatched = match(bank, ledger.output)

    report = BashOperator(
        task_id="write_report",
        bash_command="echo unmatched on {{ ds }}: {{ ti.xcom_pull(task_ids='match') | join(',') }}",
    )
    closed = EmptyOperator(task_id="books_closed")

    [bank, ledger] << opened
    ledger << calendar_checked
    unmatched >> report
    closed << [report, unmatched]

if __name__ == "__main__":
    dag.test()
