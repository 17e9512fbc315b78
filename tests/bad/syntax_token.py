import dagster as dg


@dg.asset
def price():
    return 3 $ 4
