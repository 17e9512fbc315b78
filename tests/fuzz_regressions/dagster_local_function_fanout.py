# Found by hand (session 9): a helper defined in a Dagster job body that calls itself three times
# made the op-job reader follow 3^16 calls (out of memory) before the follow budget.
import dagster as dg


@dg.op
def one() -> int:
    return 1


@dg.job
def blowup():
    def f(x):
        f(x)
        f(x)
        f(x)
        return one()

    f(1)
