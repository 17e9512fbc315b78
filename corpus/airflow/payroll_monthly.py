# constructs: with DAG, monthly cron "0 2 1 * *", catchup=True, datetime start_date, module-level default_args name, params with Param (number/string/boolean), templated {{ params.x }} / {{ ds }}, doc_md, PythonOperator op_kwargs, retry_exponential_backoff + max_retry_delay on classic operator
"""Monthly payroll run.

On the first of every month, computes gross-to-net pay for a small staff
roster, exports the bank transfer file and emails HR (simulated with echo).
``catchup=True`` makes the scheduler create one run per missed month.
"""

from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param

STAFF = [
    {"employee": "E-01", "annual_salary": 52000, "bonus": 0},
    {"employee": "E-02", "annual_salary": 61000, "bonus": 1500},
    {"employee": "E-03", "annual_salary": 47000, "bonus": 250},
]

PAYROLL_DEFAULTS = {
    "owner": "people-ops",
    "retries": 3,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=15),
}


def compute_net_pay(tax_rate: float, params=None) -> dict[str, float]:
    rate = float(params["tax_rate"]) if params else tax_rate
    net = {}
    for person in STAFF:
        gross = person["annual_salary"] / 12 + person["bonus"]
        net[person["employee"]] = round(gross * (1 - rate), 2)
    print(f"net pay computed for {len(net)} employees at rate {rate}")
    return net


with DAG(
    dag_id="payroll_monthly",
    schedule="0 2 1 * *",
    start_date=datetime(2024, 1, 1),
    catchup=True,
    max_active_runs=1,
    default_args=PAYROLL_DEFAULTS,
    params={
        "tax_rate": Param(0.22, type="number", minimum=0, maximum=0.6),
        "bank_format": Param("SEPA", type="string"),
        "dry_run": Param(True, type="boolean"),
    },
    doc_md=__doc__,
    tags=["hr", "payroll"],
) as dag:
    net_pay = PythonOperator(
        task_id="compute_net_pay",
        python_callable=compute_net_pay,
        op_kwargs={"tax_rate": 0.2},
    )
    export = BashOperator(
        task_id="export_transfers",
        bash_command="echo 'payroll {{ ds }} format={{ params.bank_format }} dry_run={{ params.dry_run }}'",
    )
    notify = BashOperator(
        task_id="notify_hr", bash_command="echo 'payroll for {{ ds }} ready for review'"
    )

    net_pay >> export >> notify

if __name__ == "__main__":
    dag.test()
