# constructs: to_deployment(interval=10) — a period no cron has; retry_delay_seconds from timedelta(...).total_seconds() and timedelta(...).seconds; .map() over a flow parameter; timeout_seconds; served with serve() under __main__
"""Endpoint heartbeat.

Every ten seconds, asks each internal endpoint for its health and writes one
line saying which ones did not answer. Probes retry after a short back-off;
the summary waits a couple of minutes before it tries again.
"""

from datetime import timedelta

from prefect import flow, serve, task

ENDPOINTS = ("billing", "search", "ledger")
PROBE_BACKOFF = timedelta(seconds=30)


@task(retries=2, retry_delay_seconds=PROBE_BACKOFF.total_seconds(), timeout_seconds=5)
def probe(endpoint: str) -> dict:
    return {"endpoint": endpoint, "up": not endpoint.startswith("legacy-")}


@task(retries=1, retry_delay_seconds=timedelta(minutes=2).seconds)
def summarise(results: list[dict]) -> str:
    down = sorted(r["endpoint"] for r in results if not r["up"])
    return "all endpoints up" if not down else "not answering: " + ", ".join(down)


@flow(name="endpoint-heartbeat")
def endpoint_heartbeat(endpoints: tuple[str, ...] = ENDPOINTS) -> str:
    results = probe.map(endpoints)
    return summarise(results)


if __name__ == "__main__":
    serve(endpoint_heartbeat.to_deployment(name="heartbeat", interval=10))
