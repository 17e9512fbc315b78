# constructs: from airflow import DAG, airflow.decorators task/task_group (Airflow-2 spelling), @task_group called twice (group ids team_digest, team_digest__1), "@daily" with catchup False, tags, description
"""Support ticket triage (Airflow 2 style imports).

Classifies the latest batch of support tickets by keyword, routes urgent
ones to the on-call queue and builds per-team digests inside task groups.
Uses the Airflow-2 ``airflow.decorators`` / ``from airflow import DAG``
spellings that still load on Airflow 3 with deprecation warnings.
"""

from datetime import datetime

from airflow import DAG
from airflow.decorators import task, task_group
from airflow.providers.standard.operators.empty import EmptyOperator

TICKETS = [
    {"id": 501, "team": "billing", "text": "refund not received, urgent"},
    {"id": 502, "team": "billing", "text": "invoice address change"},
    {"id": 503, "team": "shipping", "text": "parcel lost, customer angry, urgent"},
    {"id": 504, "team": "shipping", "text": "update delivery slot"},
]

with DAG(
    dag_id="support_ticket_triage",
    schedule="@daily",
    start_date=datetime(2024, 3, 1),
    catchup=False,
    description="Keyword triage and per-team digests for support tickets",
    default_args={"owner": "support-ops"},
    tags=["support"],
) as dag:

    @task
    def fetch_tickets(team: str) -> list[dict]:
        return [t for t in TICKETS if t["team"] == team]

    @task_group
    def team_digest(team: str):
        @task
        def classify(tickets: list[dict]) -> dict:
            urgent = [t["id"] for t in tickets if "urgent" in t["text"]]
            return {
                "urgent": urgent,
                "normal": [t["id"] for t in tickets if t["id"] not in urgent],
            }

        @task
        def route(classified: dict) -> str:
            for ticket_id in classified["urgent"]:
                print(f"paging on-call for ticket {ticket_id}")
            return f"{len(classified['urgent'])} urgent, {len(classified['normal'])} normal"

        return route(classify(fetch_tickets(team)))

    done = EmptyOperator(task_id="digests_sent")
    [team_digest("billing"), team_digest("shipping")] >> done

if __name__ == "__main__":
    dag.test()
