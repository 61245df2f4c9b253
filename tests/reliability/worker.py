"""A task process for the killed-worker tests: imports Airflow and the operators, prints ``ready``, then reads one
line ``{"kind", "run_id", "args"}`` from stdin and runs that operator's execute() until the test SIGKILLs it.
(Started ahead of time, so the import cost overlaps the previous test.)"""

from __future__ import annotations

import json
import os
import sys


def main() -> None:
    from sr_airflow.operators.backup import StarRocksBackupOperator
    from sr_airflow.operators.restore import StarRocksRestoreOperator
    from tests.support.task_context import task_context

    print("ready", flush=True)
    order = json.loads(sys.stdin.readline())
    os.environ.update(order.get("env", {}))  # connections the test made for this task (e.g. through a proxy)
    operator = StarRocksBackupOperator if order["kind"] == "backup" else StarRocksRestoreOperator
    op = operator(task_id=order["kind"], deferrable=False, cancel_on_kill=False, poll_interval=0.1,
                  max_poll_interval=0.2, **order["args"])
    print(json.dumps(op.execute(task_context(order["run_id"], store=order.get("store"))), default=str), flush=True)


if __name__ == "__main__":
    main()
