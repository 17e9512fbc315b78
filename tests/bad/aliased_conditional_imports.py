import os

import prefect as pf

if os.environ.get("USE_CACHE"):
    from prefect import task as step
else:
    from prefect import task as step


@step(retries=2)
def fetch():
    return 1


@pf.flow(name="aliased")
def aliased():
    fetch()
