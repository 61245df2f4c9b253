"""The job info file (`__info_<timestamp>`) and SHOW SNAPSHOT's Details, as StarRocks' `BackupJobInfo` writes them.

`BackupJobInfo.fromCatalog` then `toJson(true)` (`writeToFile`: `toJson(true).toString()`, compact) and
`getBrief()` (`toJson(false).toString(1)`), read at the 3.4 point afccab88 and the 3.5 point e223275f (identical
there and at 4.0 312b0d9e) and at the 3.3 point 1a2f1f5d75:

- every object is an org.json `JSONObject`: keys in `HashMap` order (`javajson.org_json`);
- root: name, database, id (verbose only), backup_time, backup_objects, meta_version, starrocks_meta_version,
  backup_result "succeed";
- a table: id (verbose only), autoIncrementId (`put` of null removes the key: only tables with an
  AUTO_INCREMENT column), partitions by name; a view (3.4+, `tbl.isOlapView()`): `"partitions": {}`;
- a partition (verbose): id = the *logical* partition id, version = the default physical partition's visible
  version, version_hash 0, indexes, subPartitions;
  - 3.4+: partition-level `indexes` stays `{}`; `subPartitions` maps each physical partition id to its id,
    version and `indexes` by index name (id, schema_hash, tablets {tabletId: []}, tablets_order);
  - 3.3: a partition with one physical partition (always, here) fills the partition-level `indexes`, with each
    tablet's snapshot file names in `tablets`, and leaves `subPartitions` `{}`;
- the brief form keeps only each partition's name (`{}`) and the tables' autoIncrementId.
"""

from __future__ import annotations

from .javajson import hashmap_order, long_hash, org_json, string_keys

META_VERSION = 92  # FeConstants.META_VERSION
STARROCKS_META_VERSION = 4  # FeConstants.STARROCKS_META_VERSION


def _index(index: dict, files: bool) -> dict:
    """One index: id, schema_hash, tablets {id: [files]} (3.3 lists the snapshot files, later releases none),
    tablets_order (the tablets' order in the index)."""
    order = [str(t) for t in index["tablets"]]
    tablets = {t: ([f"{t}.hdr", f"{t}_0.dat"] if files else []) for t in order}
    return string_keys({"id": index["id"], "schema_hash": index["schema_hash"], "tablets": string_keys(tablets),
                        "tablets_order": order})


def _indexes(indexes: list[dict], files: bool) -> dict:
    return string_keys({i["name"]: _index(i, files) for i in indexes})


def _partition(part: dict, verbose: bool, physical_ids: bool) -> dict:
    if not verbose:
        return {}
    if physical_ids:
        sub = string_keys({"id": part["physical_id"], "version": part["version"],
                           "indexes": _indexes(part["indexes"], False)})
        # BackupPartitionInfo.subPartitions is a HashMap<Long, ...>: its order decides collisions' order below
        subs = {str(part["physical_id"]): sub}
        ordered = {k: subs[k] for k in hashmap_order(subs, lambda k: long_hash(int(k)))}
        return string_keys({"id": part["id"], "version": part["version"], "version_hash": 0, "indexes": {},
                            "subPartitions": string_keys(ordered)})
    return string_keys({"id": part["id"], "version": part["version"], "version_hash": 0,
                        "indexes": _indexes(part["indexes"], True), "subPartitions": {}})


def job_info(label: str, db_name: str, db_id: int, backup_time_ms: int, tables: list[dict], verbose: bool,
             physical_ids: bool = True) -> dict:
    """`BackupJobInfo.toJson(verbose)` as an ordered dict. `tables`: {name, id, view, auto_increment_id (or
    None), partitions: [{name, id, physical_id, version, indexes: [{name, id, schema_hash, tablets}]}]}."""
    objects = {}
    for table in tables:
        entry = {}
        if verbose:
            entry["id"] = table["id"]
        if table.get("auto_increment_id") is not None:
            entry["autoIncrementId"] = table["auto_increment_id"]
        entry["partitions"] = string_keys({p["name"]: _partition(p, verbose, physical_ids)
                                           for p in table.get("partitions", [])})
        objects[table["name"]] = string_keys(entry)
    root = {"name": label, "database": db_name}
    if verbose:
        root["id"] = db_id
    root.update({"backup_time": backup_time_ms, "backup_objects": string_keys(objects),
                 "meta_version": META_VERSION, "starrocks_meta_version": STARROCKS_META_VERSION,
                 "backup_result": "succeed"})
    return string_keys(root)


def info_text(info: dict) -> str:
    """`BackupJobInfo.writeToFile`: `toJson(true).toString()`."""
    return org_json(info)


def brief_text(brief: dict) -> str:
    """`BackupJobInfo.getBrief`: `toJson(false).toString(1)`."""
    return org_json(brief, 1)


def brief_of(info: dict) -> dict:
    """The brief form of a verbose job info read back from storage (what `getBrief` shows of a snapshot)."""
    tables = []
    for name, obj in info.get("backup_objects", {}).items():
        tables.append({"name": name, "id": obj.get("id", 0), "auto_increment_id": obj.get("autoIncrementId"),
                       "partitions": [{"name": p} for p in obj.get("partitions", {})]})
    return job_info(info["name"], info["database"], info.get("id", 0), info["backup_time"], tables, False)


def physical_partitions(part: dict) -> list[tuple[int, int, dict]]:
    """(physical id, version, indexes by name) of a job-info partition: its `subPartitions` (3.4+), or the
    partition itself with its partition-level indexes (3.3)."""
    subs = part.get("subPartitions") or {}
    if subs:
        return [(s["id"], s["version"], s.get("indexes", {})) for s in subs.values()]
    return [(part["id"], part["version"], part.get("indexes", {}))]
