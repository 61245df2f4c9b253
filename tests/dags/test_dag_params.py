"""How the shipped DAGs hand params to their tasks (sr_airflow/dag_params.py): read by name when a task runs, never
through Jinja, and serialised the same at every parse. Parsed as the DAG processor parses them; no server."""

from __future__ import annotations

import json

import pytest

from sr_airflow.dag_defaults import DAG_IDS
from sr_airflow.dag_params import ParamValue, from_params, param
from tests.support.dags import load_shipped_dag

# With a notifier the backup DAGs gain their RPO check: every task is built.
CONFIG = '[alerts]\nnotifier = "tests.support.webhook.WebhookNotifier"\n'


def arguments(task) -> dict:
    """The task's constructor arguments as it holds them (a mapped task: its partial arguments)."""
    partial = getattr(task, "partial_kwargs", None)
    return dict(partial) if partial is not None else {k: v for k, v in vars(task).items() if not k.startswith("_")}


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_every_param_read_by_a_task_is_a_template_field_and_no_field_is_jinja(dag_id, tmp_path, monkeypatch):
    dag = load_shipped_dag(dag_id, CONFIG, tmp_path, monkeypatch)
    assert not dag.render_template_as_native_obj and not dag.user_defined_filters
    read = 0
    for task in dag.tasks:
        for name, value in arguments(task).items():
            if isinstance(value, ParamValue):
                # Airflow resolves only template fields: any other argument would keep the ParamValue itself
                assert name in task.template_fields, (task.task_id, name)
                read += 1
        for name in task.template_fields:
            value = arguments(task).get(name)
            assert not (isinstance(value, str) and "{{" in value), (task.task_id, name, value)
    assert read, f"{dag_id} reads no param by name"


@pytest.mark.parametrize("dag_id", DAG_IDS)
def test_the_serialised_dag_is_the_same_at_every_parse(dag_id, tmp_path, monkeypatch):
    """A text that changes between parses (a memory address, as DagParam's in a mapped task's arguments) would
    make every parse a new DAG version."""
    from airflow.serialization.serialized_objects import DagSerialization

    first, second = (json.dumps(DagSerialization.to_dict(load_shipped_dag(dag_id, CONFIG, tmp_path, monkeypatch)),
                                sort_keys=True, default=str) for _ in range(2))
    assert " at 0x" not in first
    assert first == second


def test_a_param_value_is_the_validated_param_as_given():
    params = {"tables": [], "objects": {"views": ["v"]}, "label": "None", "n": 1, "none": None, "verify": "counts"}
    context = {"params": params}
    assert param("label").resolve(context) == "None"  # text stays text: nothing is evaluated
    assert param("n").resolve(context) == 1 and param("none").resolve(context) is None
    assert param("tables").resolve(context) is None  # an emptied list: not given
    assert param("objects", key="views").resolve(context) == ["v"]
    assert param("objects", key="tables").resolve(context) is None
    assert param("none", key="tables").resolve(context) is None

    def compares_counts(p):
        return p["verify"] == "counts"

    assert from_params(compares_counts).resolve(context) is True
    assert repr(param("objects", key="views")) == "param('objects', key='views')"
    assert repr(from_params(compares_counts)).startswith("from_params(") and list(param("n").iter_references()) == []
    with pytest.raises(KeyError, match="absent"):
        param("absent").resolve(context)
