# constructs: sub-flows (a flow called from a flow) with their own retries and timeout, a sub-flow called twice (-2 suffix), child.with_options(retries=...) at the call site, data from a sub-flow result into a task, flow.deploy(name, work_pool_name, image, cron) under __main__
"""Customer onboarding.

For each signup batch, a verification sub-flow checks the accounts and a welcome sub-flow
prepares the e-mails; the parent flow collects both into an onboarding report.
"""

from prefect import flow, task

SIGNUPS = [
    {"email": "ada@example.com", "country": "GB"},
    {"email": "linus@example.com", "country": "FI"},
    {"email": "grace@example", "country": "US"},
]


@task
def fetch_signups(batch: str) -> list[dict]:
    return [dict(s, batch=batch) for s in SIGNUPS]


@task
def check_email(signups: list[dict]) -> list[dict]:
    return [dict(s, valid="." in s["email"].split("@")[-1]) for s in signups]


@task
def draft_welcome(accounts: list[dict], language: str) -> list[str]:
    return [f"[{language}] Welcome {a['email']}!" for a in accounts if a["valid"]]


@task
def onboarding_report(
    accounts: list[dict], english: list[str], local: list[str]
) -> dict:
    return {"accounts": len(accounts), "mails": len(english) + len(local)}


@flow(retries=2, retry_delay_seconds=5, timeout_seconds=120)
def verify_accounts(signups: list[dict] | None = None) -> list[dict]:
    """Verify a batch of signups."""
    return check_email(signups or SIGNUPS)


@flow(name="welcome-mails", retries=1)
def welcome_mails(
    accounts: list[dict] | None = None, language: str = "en"
) -> list[str]:
    return draft_welcome(accounts or [], language)


@flow
def customer_onboarding(batch: str = "2024-W10") -> dict:
    signups = fetch_signups(batch)
    accounts = verify_accounts(signups)
    english = welcome_mails(accounts, "en")
    local = welcome_mails.with_options(retries=3)(accounts, language="fr")
    return onboarding_report(accounts, english, local)


if __name__ == "__main__":
    customer_onboarding.deploy(
        name="onboarding-nightly",
        work_pool_name="docker-pool",
        image="registry.example.com/onboarding:latest",
        cron="30 2 * * *",
        build=False,
    )
