from prefect import flow, task


@task
def step():
    return 1


@flow
def indented():
    step()
      step()
