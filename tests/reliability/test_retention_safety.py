"""Item 8: retention over random histories written to real storage code (the in-memory backend): a dry run
changes no byte, a real run deletes exactly the planned snapshots, never a dependency of a kept one, and nothing
outside the repository's own folders (other repositories, other prefixes, the catalog of other repositories)."""

from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sr_airflow.engine.retention import RetentionExecutor
from sr_airflow.storage import RepositoryLocation, get_storage
from sr_airflow.storage.catalog_store import CatalogStore
from tests.engine.strategies_catalog import histories, retention_policies
from tests.storage.layouts import write_snapshot
from tests.support.figures import count

_bucket_ids = itertools.count()


class _Sql:
    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, sql: str):
        self.statements.append(sql)
        return []


def _snapshot_of(key: str) -> str | None:
    parts = key.split("/")
    return next((p[len("__ss_"):] for p in parts if p.startswith("__ss_") and p != "__ss_content"), None)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(catalog=histories(max_len=10, messy=True), policy=retention_policies(), other_repo_labels=st.booleans(),
       server=st.sampled_from([None, "3.5.2", "4.2.0"]))
def test_retention_never_deletes_a_dependency_or_anything_outside_and_a_dry_run_changes_nothing(
        catalog, policy, other_repo_labels, server):
    storage = get_storage(RepositoryLocation("memory", "memory", f"rel-ret-{next(_bucket_ids)}", "backup"))
    store = CatalogStore(storage, "repo")
    for entry in catalog:
        write_snapshot(storage, "repo", entry.label, content_files=2, threads=1)
        store.put(entry)
    # neighbours: another repository with the same labels, an unrelated prefix, and a look-alike folder name
    for entry in list(catalog)[:3] if other_repo_labels else []:
        write_snapshot(storage, "repo2", entry.label, content_files=1, threads=1)
    for entry in list(catalog)[:2]:  # look-alike folders in the same repository, unknown to the catalog
        write_snapshot(storage, "repo", entry.label + "0", content_files=1, threads=1)
    storage.write("not_a_repository/__ss_snap_000/keep.dat", b"x")
    storage.write("__starrocks_repository_repo_old/__ss_snap_000/keep.dat", b"y")
    before = {o.key: storage.read(o.key) for o in storage.list("")}
    now = max(e.sort_key[0] for e in catalog) + timedelta(hours=1)
    sql = _Sql()
    executor = RetentionExecutor(storage, store, execute=sql, server_version=server)

    dry = executor.run(policy, now=now, dry_run=True)
    after_dry = {o.key: storage.read(o.key) for o in storage.list("")}
    assert after_dry == before and sql.statements == [] and dry.deleted == ()
    count("item8 dry runs checked byte for byte")

    report = executor.run(policy, now=now, dry_run=False)
    assert report.failures == {}
    assert set(report.deleted) == set(dry.plan.delete)
    after = {o.key for o in storage.list("")}
    gone = set(before) - after
    count("item8 real runs checked")
    count("item8 objects deleted and attributed", len(gone))
    repo_root = storage.repository_root("repo")
    for key in gone:  # every deleted object belongs to a planned snapshot of this repository or its catalog entry
        snap = _snapshot_of(key)
        in_repo = key.startswith(repo_root + "/") or key.startswith(store.root + "/")
        assert in_repo, f"deleted outside the repository: {key}"
        if snap is not None:
            assert key.startswith(repo_root + "/__ss_") and snap in report.deleted, key
        else:
            assert key in {store.entry_key(label) for label in report.deleted}, key
    kept = set(store.labels())
    assert kept == set(dry.plan.keep)
    for label in kept:  # every dependency of a kept snapshot is still there, catalog entry and files
        parent = catalog.get(label).parent_label
        while parent is not None and parent in catalog:
            assert parent in kept, f"{label} lost its parent {parent}"
            assert storage.list(f"{repo_root}/__ss_{parent}"), f"files of {parent} deleted"
            parent = catalog.get(parent).parent_label
    for key in before:
        if not key.startswith((repo_root + "/", store.root + "/")):
            assert key in after, f"{key} outside the repository was deleted"
