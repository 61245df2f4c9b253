"""Resource groups: CREATE / DROP RESOURCE GROUP and SHOW [VERBOSE] RESOURCE GROUP(S), kept in the metastore.

Read at 3.5 e223275f78 (3.4 afccab88fd the same; 3.3 1a2f1f5d75 where noted):
- `StarRocks.g4` createResourceGroupStatement: `CREATE RESOURCE GROUP [IF NOT EXISTS] [OR REPLACE] name
  [TO (classifier), ...] WITH (property, ...)`; dropResourceGroupStatement; showResourceGroupStatement.
- `ResourceGroupAnalyzer.convertPredicateToClassifier` (user=, role=, db=, source_ip=, query_type IN (...)) and
  `analyzeProperties`; `CreateResourceGroupStmt.analyze` (mem_limit required, `validateCpuParameters`).
- `ResourceGroupMgr.createResourceGroup` (exists / replace, classifiers required but for builtins and mv groups, ids
  from the id counter, one per classifier), `dropResourceGroup`, `showAllResourceGroups` (ALL: sorted by name),
  `createBuiltinResourceGroupsIfNotExist` (default_wg id 2, cpu_weight = the BEs' cores, mem_limit 1.0;
  default_mv_wg id 3, cpu_weight 1, mem_limit 0.8, spill 0.8 — from 3.4; 3.3 has none).
- `ResourceGroup.COLUMN_METAS` / `showClassifier` (one row per classifier, one with `(id=0, weight=0.0)` when it has
  none) and `ResourceGroupClassifier.toString` / `weight`. 3.3's `showClassifier` has other columns (below).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from . import versions
from .errors import EmulatorError, ErrorCode, analyzing_error
from .tokens import Cursor

ERR_NO_RG = ErrorCode("ERROR_NO_RG_ERROR", 5079, "42000")
BACKEND_CORES = 2  # the emulator's one BE (SHOW BACKENDS CpuCores)
BUILTIN = {"default_wg": (2, {"cpu_weight": BACKEND_CORES, "mem_limit": 1.0}),
           "default_mv_wg": (3, {"cpu_weight": 1, "mem_limit": 0.8, "spill_mem_limit_threshold": 0.8,
                                 "type": "MV"})}
COLUMNS = ["name", "id", "cpu_weight", "exclusive_cpu_cores", "mem_limit", "big_query_cpu_second_limit",
           "big_query_scan_rows_limit", "big_query_mem_limit", "concurrency_limit", "spill_mem_limit_threshold",
           "classifiers"]
VERBOSE_COLUMNS = ["name", "id", "cpu_weight", "exclusive_cpu_cores", "mem_limit", "max_cpu_cores",
                   "big_query_cpu_second_limit", "big_query_scan_rows_limit", "big_query_mem_limit",
                   "concurrency_limit", "spill_mem_limit_threshold", "type", "classifiers"]
# 3.3 (1a2f1f5d75) ResourceGroup.META_DATA / showClassifier
COLUMNS_33 = ["name", "id", "cpu_core_limit", "mem_limit", "max_cpu_cores", "big_query_cpu_second_limit",
              "big_query_scan_rows_limit", "big_query_mem_limit", "concurrency_limit", "spill_mem_limit_threshold",
              "type", "classifiers"]
_INT_PROPERTIES = {"cpu_weight", "cpu_core_limit", "exclusive_cpu_cores", "max_cpu_cores", "concurrency_limit"}
_LONG_PROPERTIES = {"big_query_mem_limit", "big_query_scan_rows_limit", "big_query_cpu_second_limit"}
_QUERY_TYPES = {"SELECT", "LOAD", "INSERT", "ALTER", "MV"}  # ResourceGroupClassifier.SUPPORTED_QUERY_TYPES


def java_double(value: float) -> str:
    """`"" + double` for the values resource groups hold (Double.toString: always a decimal point)."""
    text = repr(float(value))
    return text if ("." in text or "e" in text) else text + ".0"


def _percent_format(value: float) -> str:
    """`new DecimalFormat("#.##").format(value)` (HALF_EVEN, no trailing zeros)."""
    text = str(Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN))
    return text.rstrip("0").rstrip(".") if "." in text else text


def _number(key: str, value: str, kind=int):
    try:
        return kind(value)
    except ValueError:
        raise analyzing_error(f"The value type of the property `{key}` must be a valid numeric type, but it is set "
                              f"to `{value}`") from None


def _fraction(key: str, value: str) -> float:
    return _number(key, value[:-1], float) / 100 if value.endswith("%") else _number(key, value, float)


class ResourceGroups:
    def __init__(self, cluster, privileges):
        self.cluster = cluster
        self.privileges = privileges

    @property
    def groups(self) -> dict:
        return self.cluster.metastore.resource_groups

    @property
    def _line(self):
        return versions.release_line(self.cluster.options.version)

    def _builtins(self) -> dict:
        """The builtin groups as the FE creates them once it has a BE (none at 3.3)."""
        if self._line < (3, 4):
            return {}
        return {name: {"id": gid, "classifiers": [], **props} for name, (gid, props) in BUILTIN.items()}

    def all(self) -> dict:
        return {**self._builtins(), **self.groups}

    # -- statements
    def create(self, cur: Cursor, session) -> None:
        # AuthorizerStmtVisitor.visitCreateResourceGroupStatement: CREATE RESOURCE GROUP on SYSTEM
        self.privileges.require(session, "CREATE RESOURCE GROUP", "SYSTEM")
        if_not_exists = cur.accept("IF", "NOT", "EXISTS")
        replace = cur.accept("OR", "REPLACE")
        name = cur.identifier()
        classifiers = []
        if cur.accept("TO"):
            classifiers.append(self._classifier(cur))
            while cur.accept(","):
                classifiers.append(self._classifier(cur))
        cur.expect("WITH")
        group = self._properties(cur.properties())
        cur.end()
        with self.cluster.lock:
            if name in self.all():
                if not replace:
                    if if_not_exists:
                        return
                    raise EmulatorError(f"RESOURCE_GROUP({name}) already exists")
            if not classifiers and name not in BUILTIN and group.get("type") != "MV":
                raise EmulatorError("This type Resource Group need define classifiers.")
            if classifiers and group.get("type") == "MV":
                raise EmulatorError("MV Resource Group not support classifiers.")
            if not group.get("cpu_weight") or group["cpu_weight"] <= 0:
                group["cpu_weight"] = 1  # ResourceGroup.normalizeCpuWeight
            group["id"] = self.cluster.metastore.new_id()
            for classifier in classifiers:
                classifier["id"] = self.cluster.metastore.new_id()
            group["classifiers"] = classifiers
            self.groups[name] = group
            self.cluster.save()

    def drop(self, cur: Cursor, session) -> None:
        name = cur.identifier()
        cur.end()
        # AuthorizerStmtVisitor.visitDropResourceGroupStatement: DROP on the group (root or a grant on SYSTEM-level
        # groups; the emulator models the root check)
        self.privileges.require(session, "DROP", "RESOURCE GROUP", name)
        with self.cluster.lock:
            if name not in self.groups:
                raise EmulatorError(f"RESOURCE_GROUP({name}) does not exist")
            del self.groups[name]
            self.cluster.save()

    def show(self, cur: Cursor, session, verbose: bool):
        """After `SHOW [VERBOSE] RESOURCE`: `GROUP name` or `GROUPS [ALL]`. No privilege is checked
        (visitShowResourceGroupStatement). Without ALL only the classifiers the user matches are shown
        (`showVisible`); the emulator matches the user and role classifiers."""
        groups = self.all()
        if cur.accept("GROUP"):
            name = cur.identifier()
            cur.end()
            if name not in groups:
                # ResourceGroupMgr.showResourceGroup: reportSemanticException(ERROR_NO_RG_ERROR, name)
                raise analyzing_error(f"Unknown resource group '{name}' ", ERR_NO_RG)
            chosen = [(name, groups[name], None)]
        else:
            cur.expect("GROUPS")
            show_all = cur.accept("ALL")
            cur.end()
            chosen = [(n, groups[n], None if show_all else session) for n in sorted(groups)]
        rows = []
        for name, group, visible_to in chosen:
            classifiers = group["classifiers"] or [None]
            for classifier in classifiers:
                if visible_to is not None and not self._visible(classifier, visible_to):
                    continue
                rows.append(self._row(name, group, classifier, verbose))
        return rows, self._titles(verbose)

    def _titles(self, verbose: bool) -> list[str]:
        if self._line < (3, 4):
            return COLUMNS_33
        return VERBOSE_COLUMNS if verbose else COLUMNS

    # -- parsing
    def _classifier(self, cur: Cursor) -> dict:
        cur.expect("(")
        classifier: dict = {}
        while True:
            key = cur.identifier().lower()
            if key == "query_type":
                cur.expect("IN")
                cur.expect("(")
                values = [cur.string()]
                while cur.accept(","):
                    values.append(cur.string())
                cur.expect(")")
                for value in values:
                    if value.upper() not in _QUERY_TYPES:
                        raise analyzing_error(f"Unsupported query_type: '{value}'")
                classifier["query_types"] = sorted({v.upper() for v in values})
            else:
                cur.expect("=")
                value = cur.string()
                if key == "user":
                    classifier["user"] = value
                elif key == "role":
                    classifier["role"] = value
                elif key == "source_ip":
                    if "/" not in value:
                        raise analyzing_error(f"Could not parse [{value}]")
                    classifier["source_ip"] = value
                elif key == "db":
                    ids = []
                    for db_name in value.split(","):
                        db = self.cluster.metastore.databases.get(db_name)
                        if db is None:
                            raise analyzing_error(f"Specified database not exists: {db_name}")
                        ids.append(db.id)
                    classifier["db_ids"] = ids
                else:
                    raise analyzing_error(f"Unsupported classifier specifier: '{key}'")
            if cur.accept(")"):
                return classifier
            cur.expect(",")  # classifier: '(' expressionList ')'


    def _properties(self, props: dict[str, str]) -> dict:
        group: dict = {}
        for key, value in props.items():
            key = key.lower()
            if key in ("cpu_core_limit", "cpu_weight"):
                cpu = _number(key, value)
                if cpu > BACKEND_CORES:
                    raise analyzing_error(f"cpu_weight should range from 0 to {BACKEND_CORES}")
                group["cpu_weight"] = cpu
            elif key in _INT_PROPERTIES:
                group[key] = _number(key, value)
            elif key in _LONG_PROPERTIES:
                group[key] = _number(key, value)
            elif key == "mem_limit":
                limit = _fraction(key, value)
                if limit <= 0.0 or limit > 1.0:
                    raise analyzing_error("mem_limit should range from 0.00(exclude) to 1.00(include)")
                group[key] = limit
            elif key == "spill_mem_limit_threshold":
                limit = _fraction(key, value)
                if limit <= 0.0 or limit >= 1.0:
                    raise analyzing_error("spill_mem_limit_threshold should range from 0.00(exclude) to "
                                          "1.00(exclude)")
                group[key] = limit
            elif key == "type":
                if value.upper() not in ("NORMAL", "SHORT_QUERY", "MV"):
                    raise analyzing_error("Only support 'normal', 'mv' and 'short_query' type")
                group["type"] = value.upper()
            else:
                raise analyzing_error(f"Unknown property: {key}")
        cpu, exclusive = group.get("cpu_weight"), group.get("exclusive_cpu_cores")
        if (not cpu or cpu <= 0) and (not exclusive or exclusive <= 0):
            raise analyzing_error("property 'cpu_weight' or 'exclusive_cpu_cores' must be positive")
        if cpu and cpu > 0 and exclusive and exclusive > 0:
            raise analyzing_error("property 'cpu_weight' and 'exclusive_cpu_cores' cannot be present and positive "
                                  "at the same time")
        if "mem_limit" not in group:
            raise analyzing_error("property 'mem_limit' is absent")
        return group

    # -- rows
    def _visible(self, classifier: dict | None, session) -> bool:
        if classifier is None:
            return False
        if classifier.get("user") and classifier["user"] != session.user:
            return False
        return not (classifier.get("role") and classifier["role"] not in (session.active_roles or []))

    def _classifier_text(self, classifier: dict | None) -> str:
        if classifier is None:
            return "(id=0, weight=0.0)"
        weight = 0.0
        parts = [f"id={classifier['id']}"]
        extra = []
        if classifier.get("user"):
            weight += 1
            extra.append(f"user={classifier['user']}")
        if classifier.get("role"):
            weight += 1
            extra.append(f"role={classifier['role']}")
        if classifier.get("query_types"):
            weight += 1 + 0.1 / len(classifier["query_types"])
            extra.append(f"query_type in ({', '.join(classifier['query_types'])})")
        if classifier.get("db_ids"):
            weight += 10.0 * len(classifier["db_ids"])
            names = [next((n for n, d in self.cluster.metastore.databases.items() if d.id == i), "unknown")
                     for i in classifier["db_ids"]]
            extra.append(f"db='{','.join(names)}'")
        if classifier.get("source_ip"):
            weight += 1 + int(classifier["source_ip"].split("/")[1]) / 64.0
            extra.append(f"source_ip={classifier['source_ip']}")
        parts.append(f"weight={java_double(weight)}")
        return "(" + ", ".join(parts + extra) + ")"

    def _row(self, name: str, group: dict, classifier: dict | None, verbose: bool) -> list[str]:
        exclusive = group.get("exclusive_cpu_cores") or 0
        kind = group.get("type", "NORMAL")
        spill = group.get("spill_mem_limit_threshold")
        if self._line < (3, 4):
            return [name, str(group["id"]), str(group["cpu_weight"]), java_double(group["mem_limit"] * 100) + "%",
                    str(group.get("max_cpu_cores")).replace("None", "null"),
                    str(group.get("big_query_cpu_second_limit") or 0), str(group.get("big_query_scan_rows_limit") or 0),
                    str(group.get("big_query_mem_limit") or 0),
                    str(group.get("concurrency_limit")).replace("None", "null"),
                    "100%" if spill is None else java_double(spill * 100) + "%", kind,
                    self._classifier_text(classifier)]
        values = {
            "name": name, "id": str(group["id"]),
            "cpu_weight": "0" if exclusive > 0 else str(group["cpu_weight"]),  # geNormalizedCpuWeight
            "exclusive_cpu_cores": str(exclusive if exclusive > 0 else (
                group["cpu_weight"] if kind == "SHORT_QUERY" else 0)),  # getNormalizedExclusiveCpuCores
            "mem_limit": java_double(group["mem_limit"] * 100) + "%",
            "max_cpu_cores": str(group.get("max_cpu_cores")).replace("None", "null"),
            "big_query_cpu_second_limit": str(group.get("big_query_cpu_second_limit") or 0),
            "big_query_scan_rows_limit": str(group.get("big_query_scan_rows_limit") or 0),
            "big_query_mem_limit": str(group.get("big_query_mem_limit") or 0),
            "concurrency_limit": str(group.get("concurrency_limit")).replace("None", "null"),
            "spill_mem_limit_threshold": _percent_format((1.0 if spill is None else spill) * 100) + "%",
            "type": kind, "classifiers": self._classifier_text(classifier),
        }
        return [values[t] for t in self._titles(verbose)]
