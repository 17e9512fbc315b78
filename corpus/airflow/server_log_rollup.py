# constructs: @task.bash (returns command string, templated {{ ds }} / {{ ts_nodash }}), .override(task_id=...), @task(task_id=...) override, @task trigger_rule="all_done", "@hourly", extract() >> bash-decorated task mixed wiring
"""Hourly web-server log roll-up.

Generates a small synthetic access log, summarises status codes with shell
tools through ``@task.bash``, and computes the error ratio in Python. The
same summarising task is reused for two log files via ``.override``.
"""

import pendulum
from airflow.sdk import dag, task

LOG_DIR = "/tmp/orchmig/weblogs"


@dag(
    dag_id="server_log_rollup",
    schedule="@hourly",
    start_date=pendulum.datetime(2024, 7, 1, tz="Europe/Paris"),
    catchup=False,
    default_args={"owner": "sre", "retries": 1},
    tags=["sre", "logs"],
)
def server_log_rollup():
    @task.bash
    def write_sample_logs() -> str:
        lines = [
            "GET / 200",
            "GET /cart 200",
            "POST /checkout 500",
            "GET /missing 404",
            "GET / 200",
        ]
        body = "\\n".join(lines)
        return f"mkdir -p {LOG_DIR} && printf '{body}\\n' > {LOG_DIR}/frontend.log && printf 'GET /api 200\\nGET /api 503\\n' > {LOG_DIR}/api.log"

    @task.bash(retries=2)
    def count_status_codes(log_name: str) -> str:
        return f"awk '{{print $3}}' {LOG_DIR}/{log_name}.log | sort | uniq -c | awk '{{print $2\"=\"$1}}' | paste -sd, -"

    @task(task_id="error_ratio")
    def compute_error_ratio(frontend: str, api: str) -> float:
        counts: dict[str, int] = {}
        for summary in (frontend, api):
            for pair in summary.split(","):
                code, n = pair.split("=")
                counts[code] = counts.get(code, 0) + int(n)
        errors = sum(n for code, n in counts.items() if code.startswith("5"))
        return round(errors / sum(counts.values()), 3)

    @task.bash(trigger_rule="all_done")
    def archive_logs() -> str:
        return f"echo archiving {LOG_DIR} for {{{{ ds }}}} run {{{{ ts_nodash }}}}"

    written = write_sample_logs()
    frontend = count_status_codes.override(task_id="count_frontend")("frontend")
    api = count_status_codes.override(task_id="count_api")("api")
    written >> [frontend, api]
    compute_error_ratio(frontend, api) >> archive_logs()


server_log_rollup_dag = server_log_rollup()

if __name__ == "__main__":
    server_log_rollup_dag.test()
