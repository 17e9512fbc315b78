# constructs: with DAG(...) as dag, literal default_args dict, cron string schedule, datetime start_date, catchup=True, Param params, PythonOperator/BashOperator/EmptyOperator, >> and << with lists, op.output into @task, templated {{ ds }} / {{ params.x }}
"""Weekday customer churn report.

Scores a small cohort of customers on inactivity and support tickets, then
renders a report for the account-management team. Runs every weekday morning
and back-fills missed days (catchup) so every business day has a report.
"""

from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.empty import EmptyOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param, task


def score_inactivity() -> dict[str, int]:
    days_since_login = {"c-101": 3, "c-102": 41, "c-103": 95, "c-104": 12}
    return {cid: min(days // 30, 3) for cid, days in days_since_login.items()}


def score_tickets() -> dict[str, int]:
    open_tickets = {"c-101": 0, "c-102": 2, "c-103": 5, "c-104": 1}
    return {cid: min(n, 3) for cid, n in open_tickets.items()}


with DAG(
    dag_id="customer_churn_report",
    description="Weekday churn-risk scoring for account managers",
    schedule="30 5 * * 1-5",
    start_date=datetime(2024, 6, 3),
    catchup=True,
    default_args={
        "owner": "customer-success",
        "retries": 1,
        "retry_delay": timedelta(minutes=10),
    },
    params={
        "risk_threshold": Param(3, type="integer", minimum=1, maximum=6),
        "team": Param("emea", type="string", enum=["emea", "amer", "apac"]),
    },
    tags=["customers", "reporting"],
) as dag:
    start = EmptyOperator(task_id="start")
    inactivity = PythonOperator(
        task_id="score_inactivity", python_callable=score_inactivity
    )
    tickets = PythonOperator(task_id="score_tickets", python_callable=score_tickets)

    @task
    def combine_scores(
        inactivity_scores: dict, ticket_scores: dict, params=None
    ) -> list[str]:
        threshold = params["risk_threshold"]
        combined = {
            cid: inactivity_scores[cid] + ticket_scores.get(cid, 0)
            for cid in inactivity_scores
        }
        at_risk = sorted(cid for cid, score in combined.items() if score >= threshold)
        print(f"{len(at_risk)} of {len(combined)} customers at risk: {at_risk}")
        return at_risk

    at_risk = combine_scores(inactivity.output, tickets.output)

    render = BashOperator(
        task_id="render_report",
        bash_command="echo 'churn report for {{ ds }} team={{ params.team }} threshold={{ params.risk_threshold }}'",
    )
    done = EmptyOperator(task_id="done")

    start >> [inactivity, tickets]
    render << at_risk
    [render, at_risk] >> done

if __name__ == "__main__":
    dag.test()
