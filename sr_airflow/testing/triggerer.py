"""Triggers run by Airflow's own ``TriggerRunner.run_trigger`` in the caller's event loop (tests and benchmarks),
as the triggerer process runs them: a trigger whose ``shared_stream_key`` is not None is subscribed to Airflow's
``SharedStreamManager`` and read through its ``filter_shared_stream``; any other runs ``run()``. Only the
supervisor around the runner (database sync, process management) is left out: events land in the runner's
outbound queue."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

_ids = itertools.count(1)


class InProcessTriggerer:
    """One Airflow TriggerRunner (so one SharedStreamManager) per instance; create it inside the running loop."""

    def __init__(self) -> None:
        from airflow.jobs.triggerer_job_runner import TriggerRunner

        self.runner = TriggerRunner()

    def start(self, trigger: Any) -> asyncio.Task:
        """Run ``trigger`` as the triggerer would; the task ends when the trigger's event stream ends."""
        trigger_id = next(_ids)
        name = f"test trigger {trigger_id}"
        self.runner.triggers[trigger_id] = {"task": None, "is_watcher": False, "name": name, "events": 0}
        task = asyncio.get_running_loop().create_task(self.runner.run_trigger(trigger_id, trigger), name=name)
        task.trigger_id = trigger_id
        self.runner.triggers[trigger_id]["task"] = task
        return task

    def events(self, task: asyncio.Task) -> list[dict]:
        """The payloads the trigger of ``task`` fired, in order."""
        return [entry.event.payload for entry in self.runner.events if entry.trigger_id == task.trigger_id]

    async def first_events(self, triggers: list[Any], timeout: float = 60.0) -> list[dict]:
        """Run every trigger to its end; return each one's only event (fails if one fired none or several)."""
        tasks = [self.start(t) for t in triggers]
        await asyncio.wait_for(asyncio.gather(*tasks), timeout)
        fired = [self.events(task) for task in tasks]
        assert all(len(events) == 1 for events in fired), fired
        return [events[0] for events in fired]

    async def cancel(self, tasks: list[asyncio.Task]) -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
