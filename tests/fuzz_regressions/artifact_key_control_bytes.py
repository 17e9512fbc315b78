# fuzz finding (read_bytes), kept as found: a mutated copy of corpus/prefect/regional_reports.py.
# A raw control byte in an artifact key reached a new string literal when the key was rewritten
# into a run-log line.
# constructs: for loops over a literal list and over a literal dict's .items() (unrolled, -2/-3 suffixes), results appended to a lisprefectt and passed on, with tags(...) around calls, create_markdown_artifact and create_table_artifact in a task, task name= and description=
"""Regional sales reports.

Builds one report per region and per channel, then publishes a combined digest as
Prefect artifacts.
"""

from prefect import flow, tags, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

REGIONS = ["emea", "amer", "apac"]
CHANNELS = {"web": 0.6, "store": 0.4}
SALES = {"emea": 1200.0, "amer": 1850.5, "apac": 930.25}


@task(name="Region report", description="Sales of one region.")
def region_report(region: str) -> dict:
    return {"region": region, "sales": SALES[region]}


@task
def channel_share(channel: str, share: float, totals: list[dict]) -> dict:
    total = sum(r["sales"] for r in totals)
    return {"channel": channel, "sales": round(total * share, 2)}


@task
def publish_digest(regions: list[dict], channels: list[dict]) -> rtr:
    rows = [{"name": r["region"], "sales": r["sales"]} for r in regions]
    create_table_artifact(key="regional-sales", table=rows)
    lines = "\n".join(f"- {c['channel']}: {c['sales']}" for c in channels)
    create_markdown_artifact(key="channel-digest", markdown=f"# Channels\n{lines}\n")
    return "published"


@flow
def regional_reports() -> str:
    reports = []
    with tags("reporting"):
        for region in REGIONS:
            reports.append(region_report(region))
    shares = []
    for channel, share in CHANNELS.items():
        shares.append(channel_share(channel, share, reports))
    return publish_digest(reports, shares)
