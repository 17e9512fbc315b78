# constructs: load_assets_from_modules over this module (opaque), key_prefix list, define_asset_job(selection="*") + ScheduleDefinition, MaterializeResult, deps by AssetKey, code_version, Definitions with a module-level asset list spread, resources with a ConfigurableResource
"""CRM contact sync.

Contacts and their consent flags are read from the CRM stand-in, deduplicated and pushed to the
mailing tool; the module's assets are collected with load_assets_from_modules.
"""

import sys

import dagster as dg


class CrmClient(dg.ConfigurableResource):
    """In-memory stand-in for the CRM API."""

    account: str

    def contacts(self) -> list[dict]:
        return [
            {"email": "a@example.com", "consent": True},
            {"email": "A@example.com", "consent": True},
            {"email": "b@example.com", "consent": False},
        ]


@dg.asset(key_prefix=["crm", "raw"], group_name="crm", code_version="3")
def contacts(crm: CrmClient) -> list[dict]:
    return crm.contacts()


@dg.asset(
    key_prefix=["crm", "clean"],
    group_name="crm",
    ins={"contacts": dg.AssetIn(key_prefix=["crm", "raw"])},
)
def unique_contacts(contacts: list[dict]) -> list[dict]:
    seen: dict[str, dict] = {}
    for c in contacts:
        seen.setdefault(c["email"].lower(), c)
    return list(seen.values())


@dg.asset(
    group_name="crm",
    deps=[dg.AssetKey(["crm", "clean", "unique_contacts"])],
    description="Consenting contacts pushed to the mailing tool.",
)
def mailing_list_push() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"pushed": 1})


crm_assets = dg.load_assets_from_modules([sys.modules[__name__]])

crm_full_sync = dg.define_asset_job("crm_full_sync", selection="*")

crm_sync_schedule = dg.ScheduleDefinition(
    job=crm_full_sync, cron_schedule="0 3 * * 0", execution_timezone="UTC"
)

defs = dg.Definitions(
    assets=[*crm_assets],
    jobs=[crm_full_sync],
    schedules=[crm_sync_schedule],
    resources={
        "crm": CrmClient(account="demo"),
        "io_manager": dg.FilesystemIOManager(base_dir="/tmp/orchmig/dagster/crm"),
    },
)
