# constructs: several DAGs in one file, aliased import (from airflow.sdk import dag as d), schedule=[Asset(...)] list, outlets and inlets, TriggerDagRunOperator, @dag + with DAG in one file, schedule None
"""Customer-360 asset pipeline: producer, consumer and controller DAGs.

``crm_export`` publishes the CRM and billing extracts as assets;
``customer_360_build`` is scheduled on both assets (data-aware scheduling) and
declares them as inlets; ``customer_360_backfill_controller`` is a manual
DAG that triggers the producer with a custom conf.
"""

from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import DAG, Asset
from airflow.sdk import dag as d
from airflow.sdk import task as t

CRM_ACCOUNTS = Asset(name="crm_accounts", uri="file:///tmp/orchmig/crm_accounts.json")
BILLING_INVOICES = Asset(
    name="billing_invoices", uri="file:///tmp/orchmig/billing_invoices.json"
)


@d(
    dag_id="crm_export",
    schedule="0 4 * * *",
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["crm"],
)
def crm_export():
    @t(outlets=[CRM_ACCOUNTS])
    def export_accounts() -> int:
        accounts = [
            {"id": "A1", "tier": "gold"},
            {"id": "A2", "tier": "silver"},
            {"id": "A3", "tier": "gold"},
        ]
        return len(accounts)

    @t(outlets=[BILLING_INVOICES])
    def export_invoices() -> int:
        invoices = [("A1", 300.0), ("A1", 120.0), ("A3", 45.0)]
        return len(invoices)

    export_accounts()
    export_invoices()


crm_export_dag = crm_export()


@d(
    dag_id="customer_360_build",
    schedule=[CRM_ACCOUNTS, BILLING_INVOICES],
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["crm", "assets"],
)
def customer_360_build():
    @t(inlets=[CRM_ACCOUNTS, BILLING_INVOICES])
    def join_accounts_and_invoices() -> dict[str, float]:
        invoices = [("A1", 300.0), ("A1", 120.0), ("A3", 45.0)]
        lifetime_value: dict[str, float] = {}
        for account, amount in invoices:
            lifetime_value[account] = lifetime_value.get(account, 0.0) + amount
        return lifetime_value

    publish = BashOperator(
        task_id="refresh_dashboard", bash_command="echo customer 360 refreshed"
    )
    join_accounts_and_invoices() >> publish


customer_360_build_dag = customer_360_build()


with DAG(
    dag_id="customer_360_backfill_controller",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    description="Manually re-run the CRM export for a given account segment",
    tags=["crm", "ops"],
) as controller_dag:
    TriggerDagRunOperator(
        task_id="trigger_crm_export",
        trigger_dag_id="crm_export",
        conf={"segment": "gold"},
        wait_for_completion=False,
    )

if __name__ == "__main__":
    for dag_obj in (crm_export_dag, customer_360_build_dag, controller_dag):
        dag_obj.test()
