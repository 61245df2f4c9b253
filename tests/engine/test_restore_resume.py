"""engine/restore_resume.py: which RESTORE job a retried restore task takes as its own (pure rules, no server)."""

from __future__ import annotations

import pytest

from sr_airflow.engine.job_states import restore_job_from_row
from sr_airflow.engine.jobwatch import NextStep
from sr_airflow.engine.restore_resume import (
    decide_chain_restore,
    latest_restore_job,
    own_restore_job,
    submission_mark,
)

TS = "2024-01-02-03-04-05-678"


def job(label: str, state: str, timestamp: str = TS, job_id: str = "11"):
    return restore_job_from_row({"JobId": job_id, "Label": label, "Timestamp": timestamp, "DbName": "d",
                                 "State": state, "Status": "[OK]"})


def test_the_latest_job_of_a_label_is_the_last_listed():
    jobs = [job("a", "FINISHED", job_id="1"), job("b", "FINISHED", job_id="2"), job("a", "DOWNLOAD", job_id="3")]
    assert latest_restore_job(jobs, "a").job_id == "3"
    assert latest_restore_job(jobs, "c") is None


@pytest.mark.parametrize("state", ["PENDING", "SNAPSHOTING", "DOWNLOAD", "DOWNLOADING", "COMMIT", "COMMITTING"])
def test_a_running_job_of_the_label_and_timestamp_is_waited_for_without_any_record(state):
    assert own_restore_job([job("snap", state)], "snap", TS) is not None


def test_a_job_of_another_timestamp_or_label_is_not_ours():
    assert own_restore_job([job("snap", "DOWNLOAD", timestamp="2023-01-01-00-00-00-000")], "snap", TS) is None
    assert own_restore_job([job("other", "DOWNLOAD")], "snap", TS) is None
    assert own_restore_job([], "snap", TS) is None


def test_a_finished_job_is_ours_only_when_the_task_recorded_it():
    finished = [job("snap", "FINISHED", job_id="42")]
    assert own_restore_job(finished, "snap", TS) is None  # an older restore of the same snapshot
    assert own_restore_job(finished, "snap", TS, recorded_job_id="41") is None
    assert own_restore_job(finished, "snap", TS, recorded_job_id="42").job_id == "42"
    assert own_restore_job(finished, "snap", TS, recorded_submission=submission_mark("snap", TS)).job_id == "42"
    assert own_restore_job(finished, "snap", TS, recorded_submission=submission_mark("snap", "x")) is None


def test_a_cancelled_job_is_never_ours_to_wait_for():
    cancelled = [job("snap", "CANCELLED", job_id="42")]
    assert own_restore_job(cancelled, "snap", TS, recorded_job_id="42",
                           recorded_submission=submission_mark("snap", TS)) is None


def test_a_chain_waits_for_its_running_link():
    decision = decide_chain_restore([job("l2", "DOWNLOADING")], ["l1", "l2", "l3"])
    assert (decision.step, decision.label) == (NextStep.WAIT, "l2")


def test_a_chain_takes_a_finished_link_it_recorded_as_done():
    jobs = [job("l1", "FINISHED")]
    decision = decide_chain_restore(jobs, ["l1", "l2"], recorded_submission=submission_mark("l1", TS))
    assert (decision.step, decision.label) == (NextStep.DONE, "l1")
    assert decide_chain_restore(jobs, ["l1", "l2"]).step is NextStep.SUBMIT  # not recorded: not known as ours


def test_a_chain_looks_at_the_first_label_with_a_job_only():
    jobs = [job("l1", "CANCELLED"), job("l2", "DOWNLOAD")]
    assert decide_chain_restore(jobs, ["l1", "l2"]).step is NextStep.SUBMIT
    assert decide_chain_restore(jobs, ["l2", "l1"]).step is NextStep.WAIT


def test_a_chain_with_no_job_of_its_labels_submits():
    assert decide_chain_restore([job("other", "DOWNLOAD")], ["l1"]).step is NextStep.SUBMIT
