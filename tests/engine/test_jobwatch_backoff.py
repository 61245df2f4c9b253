"""The polling backoff: with the elapsed time it never overshoots a job's end by more than ~10% of the wait."""

from __future__ import annotations

import pytest

from sr_airflow.engine.errors import InvalidArgumentError
from sr_airflow.engine.jobwatch import Backoff


def poll_moments(backoff: Backoff, until: float, *, with_elapsed: bool = True) -> list[float]:
    """When a watch that began at 0 polls, up to the first poll at or after ``until``."""
    moments, interval = [0.0], None
    while moments[-1] < until:
        interval = backoff.next(interval, moments[-1] if with_elapsed else None)
        moments.append(moments[-1] + interval)
    return moments


def seen_done_at(backoff: Backoff, job_seconds: float, **kwargs) -> float:
    return poll_moments(backoff, job_seconds, **kwargs)[-1]


def test_without_the_elapsed_time_the_intervals_double_as_before():
    assert poll_moments(Backoff(2, 60), 122, with_elapsed=False) == [0, 2, 6, 14, 30, 62, 122]


def test_plain_doubling_sees_a_63_s_job_at_122_s_and_the_capped_backoff_within_10_percent():
    assert seen_done_at(Backoff(2, 60), 63, with_elapsed=False) == 122
    assert 63 <= seen_done_at(Backoff(2, 60), 63) <= 63 * 1.1


@pytest.mark.parametrize("job_seconds", [0.5, 1, 3, 19.9, 20, 45, 60, 61, 63, 90, 121, 300, 599, 601, 1800, 3600,
                                         4 * 3600 + 7])
def test_a_job_is_seen_done_at_most_max_of_the_first_interval_and_10_percent_late(job_seconds):
    backoff = Backoff(2, 60)
    late = seen_done_at(backoff, job_seconds) - job_seconds
    assert 0 <= late <= max(backoff.initial, 0.1 * job_seconds) + 1e-9
    assert late <= backoff.maximum


def test_intervals_stay_within_their_bounds_and_never_shrink():
    backoff = Backoff(2, 60)
    intervals, moment, interval = [], 0.0, None
    while moment < 6 * 3600:
        interval = backoff.next(interval, moment)
        intervals.append(interval)
        moment += interval
    assert min(intervals) == 2 and max(intervals) == 60
    assert intervals == sorted(intervals)
    # the first 20 s poll every 2 s, then the interval grows by 10% a poll up to 60 s
    assert intervals[:10] == [2] * 10 and intervals[-1] == 60


def test_the_cost_of_the_cap_is_a_few_polls_more_per_job():
    capped, doubling = Backoff(2, 60), Backoff(2, 60)
    for job_seconds, at_most in ((60, 25), (3600, 100)):
        polls = len(poll_moments(capped, job_seconds))
        assert polls <= at_most
        assert polls >= len(poll_moments(doubling, job_seconds, with_elapsed=False))


def test_the_fraction_and_the_factor_are_respected():
    assert Backoff(1, 100, factor=3).next(1, elapsed=1000) == 3  # the factor still limits the growth
    assert Backoff(1, 100, elapsed_fraction=0.5).next(8, elapsed=10) == 5
    assert Backoff(1, 100).next(50, elapsed=5000) == 100
    assert Backoff(5, 100).next(None, elapsed=5000) == 5


def test_bad_settings_are_refused():
    with pytest.raises(InvalidArgumentError, match="elapsed_fraction must be > 0"):
        Backoff(2, 60, elapsed_fraction=0)
    with pytest.raises(InvalidArgumentError, match="poll intervals need"):
        Backoff(0, 60)
