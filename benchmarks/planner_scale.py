"""3. Planner scale: plan the next backup of a database of 1,000 tables x 1,000 partitions from its catalog.

A probe process builds a catalog chain (a full holding every partition plus five incrementals) and the rows of
``information_schema.partitions_meta`` as PyMySQL returns them (fresh tuples and strings), then times
``plan_backup`` (which parses the rows and diffs them against the chain) and reads the process's peak RSS.
The figure is CPU seconds (single-threaded, so equal to wall time on an idle machine). The
baseline is the least work any planner must do: a dict of held versions compared with every current row.
"""

from __future__ import annotations

import json
import subprocess
import sys

from benchmarks.common import ROOT, Section

NAME = "planner_scale"
TITLE = "Planner scale"
TARGET_SECONDS = 2.0
TARGET_MB = 500

PROBE = r"""
import gc, json, resource, sys, time
from datetime import UTC, datetime, timedelta
from sr_airflow.engine.catalog import Catalog, CatalogEntry, PartitionRecord
from sr_airflow.engine.planner import PlanPolicy, plan_backup

def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

tables, parts = int(sys.argv[1]), int(sys.argv[2])
start_rss = rss_mb()
now = datetime(2026, 1, 1, tzinfo=UTC)
t0 = time.perf_counter()
full = [PartitionRecord(f"t{t:04d}", f"p{p:04d}", t * 100000 + p, 2, 1000, 65536, t)
        for t in range(tables) for p in range(parts)]
entries = [CatalogEntry("full0", "repo", "db", "full", "ok", "2026-01-01-00-00-00-000",
                        now - timedelta(days=1), partitions=full)]
parent = "full0"
for i in range(1, 6):  # five incrementals, each re-holding one partition of every table
    recs = [PartitionRecord(f"t{t:04d}", f"p{i:04d}", t * 100000 + i, 2 + i, 1000, 65536, t) for t in range(tables)]
    entries.append(CatalogEntry(f"incr{i}", "repo", "db", "incremental", "ok", f"2026-01-01-0{i}-00-00-000",
                                now - timedelta(days=1) + timedelta(hours=i), parent_label=parent, partitions=recs))
    parent = f"incr{i}"
catalog = Catalog(entries)
del full, entries
rows = []
changed = 0
for t in range(tables):
    for p in range(parts):
        version = 2 + (p if 1 <= p <= 5 else 0)
        if p == parts - 1:  # the newest partition of every table changed since the last backup
            version += 1
            changed += 1
        rows.append(("db", f"t{t:04d}", f"p{p:04d}", t * 100000 + p, version, "2026-01-01 00:00:00", 1000,
                     "64.0KB", 0))
build_seconds = time.perf_counter() - t0
gc.collect()
inputs_rss = rss_mb()

t0, c0 = time.perf_counter(), time.process_time()
plan = plan_backup(catalog, "db", rows, now=now, policy=PlanPolicy(max_incrementals=None, max_full_age=None))
plan_seconds, plan_cpu = time.perf_counter() - t0, time.process_time() - c0
peak_rss = rss_mb()
assert plan.kind == "incremental" and len(plan.partitions) == changed, (plan.kind, len(plan.partitions), changed)
del plan
gc.collect()

t0, c0 = time.perf_counter(), time.process_time()  # the floor: held versions as a dict, one comparison per row
held = {}
for entry in catalog.chain_of("incr5"):
    for r in entry.partitions:
        held[(r.table, r.partition)] = r.version
floor_changed = [row for row in rows if held.get((row[1], row[2])) != row[4]]
floor_seconds, floor_cpu = time.perf_counter() - t0, time.process_time() - c0
assert len(floor_changed) == changed
print(json.dumps({"plan_seconds": plan_seconds, "plan_cpu": plan_cpu, "floor_seconds": floor_seconds,
                  "floor_cpu": floor_cpu,
                  "start_rss": start_rss, "inputs_rss": inputs_rss, "peak_rss": peak_rss,
                  "build_seconds": build_seconds, "changed": changed, "rows": len(rows)}))
"""


def probe(tables: int, parts: int) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, str(tables), str(parts)], capture_output=True, text=True,
                          cwd=ROOT, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"planner probe failed: {done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> Section:
    section = Section(NAME, TITLE)
    tables, parts = (100, 100) if quick else (1000, 1000)
    result = probe(tables, parts)
    row = section.add(f"plan_backup time (CPU), {tables:,} tables × {parts:,} partitions", result["plan_cpu"],
                      "s", "dict-diff floor (same rows, same chain)", result["floor_cpu"],
                      target=f"< {TARGET_SECONDS:g} s")
    row.met = result["plan_cpu"] < TARGET_SECONDS
    row = section.add("peak memory of the planning process (RSS, inputs included)", result["peak_rss"], "MB",
                      "RSS holding only the inputs (catalog + rows)", result["inputs_rss"],
                      target=f"< {TARGET_MB} MB")
    row.met = result["peak_rss"] < TARGET_MB
    section.add("memory added by planning", result["peak_rss"] - result["inputs_rss"], "MB")
    section.sizes = [f"{result['rows']:,} partitions_meta rows ({tables:,} tables × {parts:,} partitions)",
                     f"a chain of 1 full ({result['rows']:,} partition records) + 5 incrementals "
                     f"({tables:,} records each)", f"{result['changed']:,} partitions changed since the last backup"]
    section.method = [__doc__.split("\n\n", 1)[1].replace("\n", " ").strip()]
    section.notes.append(f"Planning wall time {result['plan_seconds']:.2f} s (floor {result['floor_seconds']:.2f} "
                         "s); CPU seconds are the figure because other work shared the machine's 2 cores; building "
                         "the inputs took "
                         f"{result['build_seconds']:.1f} s and is not counted; an interpreter with the engine "
                         f"imported starts at {result['start_rss']:.0f} MB RSS.")
    section.notes.append("Not included: loading the catalog from its Parquet files (CatalogStore) and fetching the "
                         "rows from the frontend; both are outside plan_backup.")
    if result["plan_cpu"] >= TARGET_SECONDS:
        section.close.append(
            f"Time: plan_backup takes {result['plan_cpu']:.1f} s CPU against a {result['floor_cpu']:.2f} s floor. "
            "A profile (100,000 rows) puts about half of it in parse_partitions_meta, which turns every row into "
            "a dict and then a frozen PartitionState, parsing DATA_SIZE with a regex and three integers on the "
            "way; then the changed-partition comprehension (the `key` property called several times per row), "
            "apply_chain over the chain and the per-table plans. Comparing the raw tuples against a (table, "
            "partition) -> (partition_id, version) dict and building PartitionState (and parsing sizes) only for "
            "the changed rows would bring it near the floor.")
    if result["peak_rss"] >= TARGET_MB:
        section.close.append(
            f"Memory: {result['peak_rss']:.0f} MB peak against {result['inputs_rss']:.0f} MB for the inputs alone. "
            "The catalog holds a PartitionRecord object per partition and the planner a PartitionState per row; "
            "slotted dataclasses (slots=True), interned table and partition names, and parsing only the changed "
            "rows would each cut it; a columnar catalog (the Parquet columns kept as arrays) more.")
    return section
