import dagster as dg
L = [1]
for _ in range(70):
    L = [L, L]

@dg.asset
def after():
    return 1
