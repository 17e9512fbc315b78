# Hostile names in a Prefect flow: task, flow and deployment names, tags, descriptions and
# parameter defaults that try to close a string, and tasks named like the targets' imports.
from prefect import flow, task


@task(name='t"""\n__import__("os").system("touch PWNED")', tags=['a"\n__import__("os")'], retries=1)
def extract():
    return [1]


@task(name="dg")
def dg(x):
    return x


@task
def dag(x):
    return x


@flow(name='f"""\n__import__("os")\n"""', description='d"""\n__import__("os")\n"""', log_prints=True)
def pipe(p: str = 'v"""\n__import__("os")'):
    d = dg(extract())
    dag(d)


if __name__ == "__main__":
    pipe.serve(
        name='dep"""\n__import__("os")',
        cron="0 1 * * *",
        tags=['x"\n__import__("os")'],
        parameters={"p": '"""\n__import__("os")'},
    )
