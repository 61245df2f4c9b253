"""Small Python steps of the shipped DAGs (list the run's databases, decide whether a round is needed, summarise).

``@task`` would do, but the decorator imports the standard provider's PythonOperator with ``packaging`` and
``airflow.models.variable``: about as much parse time as a whole SQLExecuteQueryOperator, for functions that
need none of it. These two operators call a function of the DAG file with the task context instead.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from airflow.sdk import BaseOperator


class StepOperator(BaseOperator):
    """Return ``python_callable(context, **op_kwargs)``; ``op_kwargs`` are templated (XComArgs resolved).

    :param python_callable: the function, called with the task context and the rendered ``op_kwargs``.
    :param op_kwargs: keyword arguments of the function (templates and ``.output`` of other tasks allowed).
    """

    template_fields: Sequence[str] = ("op_kwargs",)
    ui_color = "#f0f0f0"

    def __init__(self, *, python_callable: Callable[..., Any], op_kwargs: Mapping[str, Any] | None = None,
                 **kwargs: Any) -> None:
        if not callable(python_callable):
            raise TypeError(f"python_callable must be callable, got {python_callable!r}.")
        super().__init__(**kwargs)
        self.python_callable = python_callable
        self.op_kwargs = dict(op_kwargs or {})

    def execute(self, context: Any) -> Any:
        return self.python_callable(context, **self.op_kwargs)


class ConditionStepOperator(StepOperator):
    """A short circuit: when the function returns something false, the direct downstream tasks are skipped (and
    only those: later tasks follow their own trigger rules), as ``@task.short_circuit(
    ignore_downstream_trigger_rules=False)`` does; this task itself succeeds."""

    inherits_from_skipmixin = True  # the scheduler then honours the skip record below when tasks are cleared

    def execute(self, context: Any) -> Any:
        condition = super().execute(context)
        self.log.info("Condition result is %r.", condition)
        if condition:
            return condition
        skipped = [t.task_id for t in self.get_direct_relatives(upstream=False) if not t.is_teardown]
        if not skipped:
            return condition
        from airflow.sdk.exceptions import DownstreamTasksSkipped

        # What SkipMixin records: NotPreviouslySkippedDep reads it when a skipped task is cleared.
        context["ti"].xcom_push(key="skipmixin_key", value={"skipped": skipped})
        self.log.info("Skipping the downstream tasks %s.", ", ".join(skipped))
        raise DownstreamTasksSkipped(tasks=skipped)
