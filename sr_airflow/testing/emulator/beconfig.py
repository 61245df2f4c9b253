"""information_schema.be_configs: the BE configuration items BACKUP / RESTORE run on, one BE (id 10001, as SHOW
BACKENDS gives it).

Columns: `BeConfigsSystemTable.create` (the same at 3.3 1a2f1f5d75, 3.4 afccab88, 3.5 e223275f78, 4.0 312b0d9e):
BE_ID BIGINT, NAME, VALUE, TYPE, DEFAULT VARCHAR, MUTABLE BOOLEAN; each row is one `config::list_configs()` entry
(`be/src/common/configbase.cpp`: name, value, type — "int32" for `CONF_Int32` / `CONF_mInt32`, `configbase.h` —,
default, mutable) written by `SchemaBeConfigsScanner::fill_chunk`. StarRocks lists every BE item; the emulator lists
only the four the seed names for BACKUP / RESTORE. Defaults and mutability per release line, `be/src/common/config.h`:

- 3.3 (1a2f1f5d75): `CONF_Int32(upload_worker_count, "1")`, `CONF_Int32(download_worker_count, "1")`,
  `CONF_mInt32(make_snapshot_worker_count, "5")`, `CONF_Int32(release_snapshot_worker_count, "5")`;
- 3.4 (afccab88), 3.5 (e223275f78), 4.0 (312b0d9e): all four `CONF_mInt32`, upload / download "0" (0 = one thread
  per CPU core: `calc_real_num_threads` in `be/src/agent/agent_server.cpp`), make / release snapshot "5".

Reading the table needs OPERATE on SYSTEM (`SystemTable.requireOperatePrivilege`: a `be_` table other than
be_tablets; `ColumnPrivilege.check`, 3.5 e223275f78) — checked by the frontend. Values are changed with
`ADMIN SET FRONTEND CONFIG ("emulator_be_<item>" = "<value>")` or `--be-config <item>=<value>` (StarRocks changes
them with `UPDATE information_schema.be_configs` or the BE's config file / HTTP action).
"""

from __future__ import annotations

from . import versions

ITEMS = ("upload_worker_count", "download_worker_count", "make_snapshot_worker_count",
         "release_snapshot_worker_count")
KEY_PREFIX = "emulator_be_"
BACKEND_ID = 10001
COLUMNS = [("BE_ID", "BIGINT"), ("NAME", "VARCHAR"), ("VALUE", "VARCHAR"), ("TYPE", "VARCHAR"),
           ("DEFAULT", "VARCHAR"), ("MUTABLE", "BOOLEAN")]


def defaults(line: tuple[int, int]) -> dict[str, tuple[str, bool]]:
    """Each item's (default, mutable) on the release line."""
    if line < (3, 4):
        return {"upload_worker_count": ("1", False), "download_worker_count": ("1", False),
                "make_snapshot_worker_count": ("5", True), "release_snapshot_worker_count": ("5", False)}
    return {name: ("0" if name in ("upload_worker_count", "download_worker_count") else "5", True)
            for name in ITEMS}


def item_of(key: str) -> str | None:
    """The BE item an `emulator_be_<item>` key sets, or None when the key is not one."""
    name = key[len(KEY_PREFIX):] if key.startswith(KEY_PREFIX) else ""
    return name if name in ITEMS else None


def check_value(value: str) -> str:
    int(value)  # an int32 item: ValueError for anything else
    return value.strip()


def rows(version: str, values: dict[str, str]) -> tuple[list, list[list]]:
    line = versions.release_line(version)
    out = [[BACKEND_ID, name, values.get(name, default), "int32", default, mutable]
           for name, (default, mutable) in defaults(line).items()]
    return COLUMNS, out
