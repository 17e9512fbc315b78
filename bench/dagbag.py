"""Times Airflow's DagBag over one folder: argv[1] the folder, argv[2] the repetitions.

Prints one JSON line: the seconds `import airflow` + the DagBag import took, the seconds of each
DagBag fill (the imports excluded), the DAGs found and the import errors.
"""

import json
import sys
import time

start = time.perf_counter()
import airflow  # noqa: E402,F401
from airflow.dag_processing.dagbag import DagBag  # noqa: E402

imported = time.perf_counter() - start
fills = []
bag = None
for _ in range(int(sys.argv[2])):
    t = time.perf_counter()
    bag = DagBag(dag_folder=sys.argv[1], safe_mode=False)
    fills.append(time.perf_counter() - t)
print(
    json.dumps(
        {
            "import": imported,
            "fill": fills,
            "dags": len(bag.dags),
            "errors": len(bag.import_errors),
        }
    )
)
