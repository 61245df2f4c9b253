"""6. Retention: deleting 50 snapshots totalling 100,000 objects through the S3 API, batched vs object by object.

An S3 API server (moto) starts with the snapshots already in it (see ``benchmarks.seeded_s3``). The product path
is ``RepositoryStorage.delete_snapshot`` for each snapshot (what the retention executor calls): it lists the
snapshot folder and sends DeleteObjects of up to 1,000 keys. The baseline lists the same folders and sends one
DeleteObject per object, on a second server seeded identically. Every HTTP request the client sends is counted by
operation (botocore ``before-send`` events, retries included).
"""

from __future__ import annotations

import math
import os
import sys
import time
import uuid
from collections import Counter

from benchmarks.common import ROOT, Section, s3_client

NAME = "retention"
TITLE = "Retention: deleting snapshots"
REPO = "bench"
LIST_OPERATIONS = ("ListObjectsV2", "ListObjects")


def seeded_server(bucket: str, snapshots: int, objects: int):
    from sr_airflow.testing.servers import ServerProcess, free_port

    port = free_port()
    argv = [sys.executable, "-m", "benchmarks.seeded_s3", "--port", str(port), "--bucket", bucket, "--prefix",
            f"backups/__starrocks_repository_{REPO}", "--snapshots", str(snapshots), "--objects", str(objects)]
    env = {"PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return ServerProcess(argv, port, env=env, ready_timeout=600)


def counted_client(endpoint: str) -> tuple[object, Counter]:
    client = s3_client(endpoint)
    counts: Counter = Counter()

    def count(event_name: str, **_kwargs) -> None:
        counts[event_name.rsplit(".", 1)[-1]] += 1

    client.meta.events.register("before-send.s3", count)
    return client, counts


def labels(snapshots: int) -> list[str]:
    return [f"snap{i:03d}" for i in range(snapshots)]


def product(endpoint: str, bucket: str, snapshots: int) -> tuple[float, Counter, int]:
    from sr_airflow.storage import get_storage

    client, counts = counted_client(endpoint)
    storage = get_storage(f"s3://{bucket}/backups", client=client)
    started = time.perf_counter()
    objects = 0
    for label in labels(snapshots):
        objects += storage.delete_snapshot(REPO, label).objects
    return time.perf_counter() - started, counts, objects


def object_by_object(endpoint: str, bucket: str, snapshots: int) -> tuple[float, Counter, int]:
    client, counts = counted_client(endpoint)
    started = time.perf_counter()
    objects = 0
    for label in labels(snapshots):
        prefix = f"backups/__starrocks_repository_{REPO}/__ss_{label}/"
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for item in page.get("Contents", []):
                client.delete_object(Bucket=bucket, Key=item["Key"])
                objects += 1
    return time.perf_counter() - started, counts, objects


def remaining(endpoint: str, bucket: str) -> int:
    client = s3_client(endpoint)
    return sum(len(p.get("Contents", [])) for p in client.get_paginator("list_objects_v2").paginate(Bucket=bucket))


def run(quick: bool = False) -> Section:
    section = Section(NAME, TITLE)
    snapshots, per = (5, 200) if quick else (50, 2000)
    # Object by object, 100,000 sequential requests take minutes here: time a sample of the same snapshots and
    # scale by the object count (the cost is one request per object, so linear); requests are counted exactly.
    sample = snapshots if quick else 1
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    seed_started = time.perf_counter()
    with seeded_server(bucket, snapshots, per) as server:
        seed_seconds = time.perf_counter() - seed_started
        endpoint = f"http://127.0.0.1:{server.port}"
        seconds, counts, objects = product(endpoint, bucket, snapshots)
        left = remaining(endpoint, bucket)
    with seeded_server(bucket, sample, per) as server:
        endpoint = f"http://127.0.0.1:{server.port}"
        base_seconds, base_counts, base_objects = object_by_object(endpoint, bucket, sample)
    scale = objects / base_objects
    requests = sum(counts.values())
    pages = sum(counts[o] for o in LIST_OPERATIONS)
    base_requests = sum(base_counts.values()) * scale
    # objects/1,000 when every snapshot fills whole batches (the full size); one partial batch per snapshot else
    budget = snapshots * math.ceil(per / 1000) + pages
    row = section.add("requests to delete every snapshot", requests, "requests",
                      "object by object (DeleteObject per object)", base_requests,
                      target=f"≤ objects/1,000 + listing pages = {budget:,}")
    row.met = requests <= budget
    section.add("time to delete every snapshot", seconds, "s", "object by object", base_seconds * scale)
    section.sizes = [f"{snapshots} snapshots × {per:,} objects = {objects:,} objects of 16 bytes",
                     f"object-by-object baseline timed on {sample} of the snapshots ({base_objects:,} objects) "
                     f"and scaled ×{scale:g} (its requests: {sum(base_counts.values()):,} measured, "
                     f"{base_requests:,.0f} scaled)" if scale != 1 else "baseline on the same snapshots"]
    section.method = [__doc__.split("\n\n", 1)[1].replace("\n", " ").strip()]
    section.notes.append("Requests by operation, product: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                         + "; baseline (measured sample): "
                         + ", ".join(f"{k} {v}" for k, v in sorted(base_counts.items())) + ".")
    section.notes.append(f"Objects left in the bucket after the product deletion: {left} (the repository's "
                         "__repo_info). Seeding the server took "
                         f"{seed_seconds:.1f} s and is not counted. The catalog bookkeeping the retention executor "
                         "adds per snapshot (marking it deleting, removing its entry) is not included: this measures "
                         "the object deletion.")
    if not row.met:
        other = {k: v for k, v in counts.items() if k not in LIST_OPERATIONS and k != "DeleteObjects"}
        section.close.append(
            f"{requests:,} requests against a budget of {budget:,.0f}: besides {pages} listing pages and "
            f"{counts['DeleteObjects']} DeleteObjects, the product sent {other}; see "
            "RepositoryStorage.delete_snapshot (one listing of the snapshot folder, then DeleteObjects of up to "
            "1,000 keys; the legacy __palo_repository_ root is checked only when that listing is empty).")
    return section
