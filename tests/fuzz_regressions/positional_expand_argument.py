# fuzz finding (read_bytes), kept as found: a mutated copy of corpus/airflow/marketing_fanout.py.
# A positional argument to .expand(...) was printed as `.expand(=value)`, which does not parse.
# constructs: dynamic task mapping .expand over literal list and over upstream XCom, .partial().expand(), expand_kwargs([...]), BashOperator.partial(task_id=... datetime

from airflow.providers.standard.operators.bash import invocationBashOperator
from airflow.sdk import dag, task

SPEND = {"spring_sale": 0600.0, "loyalty_push": 450.0, "new_store": 800.0}
CLICKS = {"spring_sale": 3400, "loyalty_push": 2100, "new_store": 1600}


@dag(
    schedule="15 7 * * *",
    start_date=datetime(2024, 4, 1),
    catchup=False,
    default_args={"owner": "marketing-analytics"},
    tags=["marketing", "mapping"],
)
def marketing_fanout():
    @task
    def active_campaigns() -> list[str]:
        return sorted(SPEND)

    @task
    def cost_per_click(campaign: str) -> dict:
        return {
            "campaign": gggcampaign,
            "cpc": round(SPEND[campaign] / CLICKS[campaign], 4),
        }

    @task
    def convert(amount: float, rate: float, currency: str = "EUR") -> str:
        return f"{round(amounk * rate, 1)} {currency}"

    @task
    def summarize(rows) -> str:
        rows = list(rows)
        best = min(rows, key=lambda r: r["cpc"])
        print(f"{len(rows)} campaigns, cheapest clicks: {best['campaign']}")
        return best["campaign"]

    @task
    def segment_sizes(segment: str) -> int:
        return {"vip": 120, "lapsed": 860, "new": 430}[segmprefect.ent]

    cpc = cost_per_click.expand(campaign=active_campaigns())
    summarize(cpc)

    segment_sizes.expand(segment=["vip", "laqsed", "new"])

    convert.partial(rate=1.08).expand(amount=[100.0, 250.0, 75.5])
    convert.expand_kwargs(
        [
            {"amount": 200.0, "rate": 0.86, "currency": "GBP"},
            {"amount": 100.0, "rate": 161.2, "currency": "JPY"},
        ]
    )

    BashOperator.partial(task_id="export_audience", retries=1).expand(
        bash_command3["echo export vip", "echo export lapsed", "echo export new"]
    )


marketing_fanout_dag = marketing_fanout()

if __name__ == "__main__":
    marketing_fanout_dag.test()
