# constructs: local helper functions that call tasks (followed), a helper defined inside the flow, a plain Python helper (no runs), task.fn(...) (raw function, no run), flow_run_name, version, validate_parameters=False, log_prints task, Prefect 3 deploy() of to_deployment results with a work pool
"""Web server log rollup.

Parses access logs from three hosts, rolls them up per status class and writes a
daily rollup; host handling lives in small helpers.
"""

from prefect import deploy, flow, task

LOGS = {
    "web-1": ["GET / 200", "GET /cart 500", "POST /pay 201"],
    "web-2": ["GET / 200", "GET /missing 404"],
    "web-3": ["GET /health 200"],
}


@task
def read_log(host: str) -> list[str]:
    return list(LOGS[host])


@task(log_prints=True)
def parse(lines: list[str]) -> list[dict]:
    out = []
    for line in lines:
        method, path, status = line.split()
        out.append({"method": method, "path": path, "status": int(status)})
    print(f"parsed {len(out)} lines")
    return out


@task
def rollup(parsed: list[list[dict]]) -> dict:
    counts: dict[str, int] = {}
    for rows in parsed:
        for r in rows:
            key = f"{r['status'] // 200}xx"
            counts[key] = counts.get(key, 0) + 1
    return counts


@task
def write_rollup(counts: dict, label: str) -> str:
    return f"{label}: {sorted(counts.items())}"


def host_pipeline(host: str) -> list[dict]:
    """Read and parse one host's log."""
    return parse(read_log(host))


def label_for(day: str) -> str:
    return f"rollup-{day}"


@flow(flow_run_name="rollup-{day}", version="2.1", validate_parameters=False)
def log_rollup(day: str = "2024-03-01") -> str:
    def secondary_hosts() -> list[list[dict]]:
        return [host_pipeline("web-2"), host_pipeline("web-3")]

    primary = host_pipeline("web-1")
    others = secondary_hosts()
    counts = rollup([primary] + others)
    sample = parse.fn(["GET / 200"])
    print(f"sample parse: {sample}")
    return write_rollup(counts, label_for(day))


if __name__ == "__main__":
    deploy(
        log_rollup.to_deployment(name="log-rollup-daily", cron="07 1 * * *"),
        work_pool_name="process-pool",
        image="registry.example.com/logs:1.0",
        build=False,
    )
