"""The restore model: a hypothesis state machine that changes a source database at random, backs it up through
the product (full, incremental, two incrementals planned from one catalog state then submitted one after the
other, a backfill of some dates beside a scheduled run), records the source's content at every moment the
catalog claims to cover, and restores recorded moments through the product's point-in-time restore into fresh
databases whose content must equal the recorded one.

One rule, ``step``: 1-3 changes, then maybe a backup, then maybe a restore, each kind drawn with
``sampled_from`` (shrinking aims at the first of each list). Hypothesis switches rules off at random per example
(swarm testing); with several rules many examples never backed up.

``restore_machine(cluster, counters)`` builds the machine class for one test; ``Counters`` add up what every
example did."""

from __future__ import annotations

import itertools
import os
import time
from dataclasses import dataclass, field

import pendulum
import pymysql
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule

from tests.model.content import DatabaseContent, read_content
from tests.model.product import Product, Snapshot
from tests.model.source import KEYS, VALUE_TYPES, Source, partition_name

MAX_TABLES = 3
MAX_DAYS = 6  # partitions are days 0..MAX_DAYS-1
MAX_STEP_RESTORES = 2  # restores per example besides the final one (each restore is a few seconds)
COMMENTS = ("orders", "daily orders", "")
CHANGE_GROUPS = {  # change kind -> the method making it; inserts come first and twice (shrinking aims there)
    "insert": "change_rows", "upsert": "change_rows", "delete": "change_rows", "truncate": "change_rows",
    "add_partition": "change_tables", "drop_partition": "change_tables", "create_table": "change_tables",
    "drop_table": "change_tables",
    "add_column": "change_schema", "drop_column": "change_schema", "rename_column": "change_schema",
    "comment": "change_schema",
    "create_view": "change_objects", "drop_view": "change_objects", "create_function": "change_objects",
    "drop_function": "change_objects",
}
CHANGES = ("insert", *CHANGE_GROUPS)
BACKUPS = ("none", "backfill", "concurrent", "backfill", "incremental", "full")  # shrinking aims at the first


@dataclass
class Cluster:
    """What the machine runs against (set up once per test by fixtures)."""

    emulator: object  # tests.support.emulators.Emulator
    s3_server: object
    storage_conn_id: str
    location_root: str  # e.g. s3://bucket/model-<test>


@dataclass
class Counters:
    examples: int = 0
    steps: int = 0
    backups: int = 0
    restores: int = 0
    final_restores: int = 0  # examples that ended with a restore to their newest moment
    date_restores: int = 0  # restores to a moment a backfill date's snapshot ("part_...") recorded
    kinds: dict[str, int] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def line(self, name: str) -> str:
        return (f"MODEL {name} examples={self.examples} steps={self.steps} backups={self.backups} "
                f"restores={self.restores} final_restores={self.final_restores} date_restores={self.date_restores} "
                f"seconds={time.monotonic() - self.started:.1f}")

    def kinds_line(self) -> str:
        return "MODEL steps by kind: " + " ".join(f"{k}={v}" for k, v in sorted(self.kinds.items()))


def explore_examples() -> int:
    """Random examples to run (0: the CI set): ``SR_MODEL_EXPLORE=<n>``, or 30 under the suite's
    ``SR_HYPOTHESIS_PROFILE=explore``."""
    if os.environ.get("SR_MODEL_EXPLORE"):
        return int(os.environ["SR_MODEL_EXPLORE"])
    return 30 if os.environ.get("SR_HYPOTHESIS_PROFILE") == "explore" else 0


def report(capsys, record_property, *lines: str) -> None:
    """The model's figures: on the terminal (a run without xdist workers, whose output pytest does not show) and
    in the JUnit report (``record_property``)."""
    with capsys.disabled():
        print("\n" + "\n".join(lines))
    for i, line in enumerate(lines):
        record_property(f"model{i}", line)


@dataclass(frozen=True)
class Moment:
    """A point in time the catalog claims to cover, with the source's content then: a backup the product
    finished (nothing changes the source while a job runs), or an empty plan ("nothing changed since ...")."""

    at: pendulum.DateTime
    label: str  # the snapshot's, or "(empty plan)"
    content: DatabaseContent
    step: int


_databases = itertools.count(1)


def restore_machine(cluster: Cluster, counters: Counters, prefix: str = "m"):
    """A RuleBasedStateMachine class bound to ``cluster``; each example counts into ``counters``."""

    class RestoreMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            n = next(_databases)
            self.database = f"{prefix}{n}"
            self.repository = f"{prefix}_repo{n}"
            self.conn = pymysql.connect(host="127.0.0.1", port=cluster.emulator.server.port, user="root",
                                        password="", autocommit=True)
            self.cursor = self.conn.cursor()
            self.source = Source(self.database, self.cursor.execute)
            self.moments: list[Moment] = []
            self.changes = 0  # source changes so far
            self.dirty: set[int] = set()  # days whose partitions changed since the last backup step
            self.covered = 0  # changes seen by a plan whose snapshot is taken
            self.step = 0
            self.restored = 0
            self.product = Product(conn_id=cluster.emulator.conn_id, storage_conn_id=cluster.storage_conn_id,
                                   repository=self.repository, location=f"{cluster.location_root}/{n}",
                                   database=self.database)
            counters.examples += 1

        @initialize(key=st.sampled_from(KEYS), days=st.integers(1, 3))
        def start(self, key, days):
            self.cursor.execute(f"CREATE DATABASE {self.database}")
            cluster.emulator.create_repository(self.repository, cluster.s3_server,
                                               self.product.location.split("/", 3)[3])
            self.source.create_table(key, list(range(days)))

        # ---- helpers
        @staticmethod
        def _count(kind: str) -> None:
            counters.kinds[kind] = counters.kinds.get(kind, 0) + 1

        def _table(self, data, where=lambda t: True) -> str | None:
            names = sorted(n for n, t in self.source.tables.items() if where(t))
            return data.draw(st.sampled_from(names), label="table") if names else None

        def _day(self, data, table: str) -> int:
            return data.draw(st.sampled_from(sorted(self.source.tables[table].days)), label="day")

        def _recorded(self, snapshot: Snapshot | None, seen: int) -> None:
            """A backup whose plan saw the first ``seen`` changes finished (``snapshot``), or its plan was empty
            (None: the product says the catalog holds the source as it is). The moment is recorded when every
            change so far was seen by such a plan: the source's content now is then what the catalog claims. (A run
            planned before a change and submitted after it stands for no single moment of the source: StarRocks
            snapshots the planned partitions as they are when the job runs.)"""
            self.covered = max(self.covered, seen)
            if snapshot is not None:
                counters.backups += 1
            if self.covered == self.changes:
                at, label = ((snapshot.backup_time, snapshot.label) if snapshot is not None
                             else (pendulum.now("UTC"), "(empty plan)"))
                self.moments.append(Moment(at, label, read_content(self.cursor, self.database), self.step))

        # ---- one step: a change to the source, then maybe a backup, then maybe a restore
        @rule(data=st.data(), changes=st.lists(st.sampled_from(CHANGES), min_size=1, max_size=3),
              backup=st.sampled_from(BACKUPS), restore=st.sampled_from([False, False, False, True]))
        def step(self, data, changes, backup, restore):
            """One rule (hypothesis switches rules off at random per example; one rule keeps every example a mix
            of changes, backups and restores): 1-3 changes, so a backup often has several partitions to take."""
            for change in changes:
                self._count(getattr(self, CHANGE_GROUPS[change])(data, change))
                self.changes += 1
            if backup != "none":
                self._count(self.backup(data, backup))
                self.dirty.clear()
            if restore and self.moments and self.restored < MAX_STEP_RESTORES:
                self.check_restore(data.draw(st.sampled_from(self.moments), label="moment"))
            self.step += 1
            counters.steps += 1

        def change_tables(self, data, kind) -> str:
            """A partition added (a new day, or a day dropped before) or dropped, a table created or dropped. One
            table and one partition per table stay: StarRocks backs up no empty database (the emulator refuses,
            docs/emulator.md) and a range table keeps a partition."""
            if kind == "drop_table" and len(self.source.tables) > 1:
                self.source.drop_table(self._table(data))
            elif kind == "create_table" and len(self.source.tables) < MAX_TABLES:
                self.source.create_table(data.draw(st.sampled_from(KEYS), label="key"),
                                         list(range(data.draw(st.integers(1, 3), label="days"))))
            elif kind == "drop_partition" and (table := self._table(data, lambda t: len(t.days) > 1)):
                self.source.drop_partition(table, self._day(data, table))
            elif table := self._table(data, lambda t: len(t.days) < MAX_DAYS):
                kind = "add_partition"
                free = sorted(set(range(MAX_DAYS)) - self.source.tables[table].days)
                self.source.add_partition(table, data.draw(st.sampled_from(free), label="day"))
            else:
                return self.change_rows(data, "insert")
            return kind

        def change_rows(self, data, kind) -> str:
            """Rows into an old or a new partition (primary-key tables upsert reused ids), some deleted, or the
            partition truncated (a fresh partition at version 1)."""
            table = self._table(data)
            day = self._day(data, table)
            self.dirty.add(day)
            if kind in ("insert", "upsert"):
                self.source.insert(table, day, data.draw(st.integers(1, 3), label="rows"), reuse=kind == "upsert")
            elif kind == "delete":
                self.source.delete_some(table, day)
            else:
                self.source.truncate_partition(table, day)
            return kind

        def change_schema(self, data, kind) -> str:
            """A schema change; rename and comment change metadata only (no partition version moves)."""
            table = self._table(data)
            columns = [c for c, _ in self.source.tables[table].values]
            if kind == "drop_column" and columns:
                self.source.drop_column(table, data.draw(st.sampled_from(columns), label="column"))
            elif kind == "rename_column" and columns:
                self.source.rename_column(table, data.draw(st.sampled_from(columns), label="column"))
            elif kind == "comment":
                self.source.set_comment(table, data.draw(st.sampled_from(COMMENTS), label="comment"))
            else:
                kind = "add_column"
                self.source.add_column(table, data.draw(st.sampled_from(VALUE_TYPES), label="type"))
            return kind

        def change_objects(self, data, kind) -> str:
            """A view (over a table) or a function created, or one dropped (a create when there is none)."""
            if kind == "drop_view" and self.source.views:
                self.source.drop_view(data.draw(st.sampled_from(sorted(self.source.views)), label="view"))
            elif kind == "drop_function" and self.source.functions:
                self.source.drop_function(data.draw(st.sampled_from(sorted(self.source.functions)),
                                                    label="function"))
            elif kind in ("create_view", "drop_view"):
                kind = "create_view"
                self.source.create_view(self._table(data))
            else:
                kind = "create_function"
                self.source.create_function()
            return kind

        # ---- backups, through the product
        def backup(self, data, kind) -> str:
            """A full (sr_full_backup), an incremental (sr_incremental_backup), or two incrementals planned from
            one catalog state — a backfill beside a scheduled run — whose BACKUPs StarRocks serialises, in either
            order. A change may come between the two plans: then the second plan holds more."""
            if kind == "full":
                self._recorded(self.product.full_backup(), self.changes)
                return kind
            if kind == "incremental":
                self._recorded(self.product.backup(self.product.plan()), self.changes)
                return kind
            if kind == "backfill":
                return self._backfill(data)
            between = data.draw(st.sampled_from(["insert", "nothing", "add_column"]), label="between")
            newer_first = data.draw(st.booleans(), label="newer_first")
            first = (self.product.plan(), self.changes)
            if between != "nothing":
                table = self._table(data)
                if between == "insert":
                    self.source.insert(table, self._day(data, table), 1, reuse=False)
                else:
                    self.source.add_column(table, "INT")
                self.changes += 1
            second = (self.product.plan(), self.changes)
            for plan, seen in ((second, first) if newer_first else (first, second)):
                self._recorded(self.product.backup(plan), seen)
            return f"concurrent+{between}" + ("+newer_first" if newer_first else "")

        def _backfill(self, data) -> str:
            """A backfill of 1-3 dates beside a scheduled run, as Airflow runs them at once: each date's run plans
            its day's partition (``logical_date``), the scheduled run every change (``changed``), all from one
            catalog state; StarRocks takes their BACKUPs one after the other, in the order drawn. A date's plan
            covers no change beyond its partition: moments are recorded from the scheduled run's snapshot on."""
            days = sorted({d for t in self.source.tables.values() for d in t.days})
            late = sorted(self.dirty & set(days)) or days  # a backfill re-takes the days whose data came late
            dates = data.draw(st.lists(st.sampled_from(late), min_size=1, max_size=3, unique=True), label="dates")
            plans = [(self.product.plan(), self.changes)]
            plans += [(self.product.plan([partition_name(d)]), self.covered) for d in dates]
            order = data.draw(st.permutations(range(len(plans))), label="order")
            for i in order:
                plan, seen = plans[i]
                self._recorded(self.product.backup(plan), max(seen, self.covered))
            return f"backfill{len(dates)}" + ("+scheduled_last" if order[-1] == 0 else "")

        # ---- the check
        def check_restore(self, moment: Moment) -> None:
            self.restored += 1
            target = f"{self.database}_r{self.restored}"
            result = self.product.restore(moment.at, target)
            counters.restores += 1
            counters.date_restores += moment.label.startswith("part_")
            restored = read_content(self.cursor, target)
            differences = moment.content.differences(restored)
            assert not differences, (
                f"Restore of {self.database!r} as of {moment.at.isoformat()} ({moment.label}, step {moment.step}) "
                f"into {target!r} (jobs {result.get('chain')}, the product's verify "
                f"{'passed' if result['verify']['ok'] else 'failed'}) differs from the source then:\n  "
                + "\n  ".join(differences))
            self.cursor.execute(f"DROP DATABASE {target}")

        def teardown(self):
            try:
                if not self.moments:  # never backed up (hypothesis draws such examples): back up now, as a
                    # scheduled run would, so that every example ends with a restore
                    self._recorded(self.product.backup(self.product.plan()), self.changes)
                    self._count("closing_backup")
                # every example ends with a restore to its newest moment
                self.check_restore(self.moments[-1])
                counters.final_restores += 1
            finally:
                self.cursor.execute(f"DROP DATABASE IF EXISTS {self.database}")
                self.conn.close()

    return RestoreMachine
