"""SELECT / INSERT / UPDATE / DELETE in StarRocks' dialect, rewritten by sqlglot into DuckDB over `t_<id>`."""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp

from .datastore import PARTITION_COLUMN, physical
from .errors import ERR_BAD_DB_ERROR, ERR_BAD_TABLE_ERROR, EmulatorError, analyzing_error
from .metastore import Metastore, Table

INFO_SCHEMA = "information_schema"


def parse(sql: str) -> exp.Expression:
    try:
        tree = sqlglot.parse_one(sql, read="starrocks")
    except sqlglot.errors.ParseError as err:
        detail = str(err).splitlines()[0]
        raise EmulatorError(f"Getting syntax error at line 1, column 0. Detail message: {detail}.") from err
    if tree is None:
        raise EmulatorError("Getting syntax error at line 1, column 0. Detail message: empty statement.")
    return tree


def _murmur(node: exp.Expression) -> exp.Expression:
    """murmur_hash3_32(x, ...) -> a signed 32-bit value of DuckDB's hash (stable, not StarRocks' bits)."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "murmur_hash3_32":
        args = ", ".join(a.sql(dialect="duckdb") for a in node.expressions)
        return sqlglot.parse_one(f"(CAST(hash({args}) % 4294967296 AS BIGINT) - 2147483648)", read="duckdb")
    return node


def info_schema_tables(tree: exp.Expression) -> list[str]:
    return [t.name.lower() for t in tree.find_all(exp.Table) if t.db.lower() == INFO_SCHEMA]


class Rewriter:
    """Replaces table names by subqueries over the physical tables, expanding views."""

    def __init__(self, metastore: Metastore, current_db: str | None):
        self.metastore = metastore
        self.current_db = current_db

    def resolve(self, db_name: str | None, name: str) -> tuple[str, Table]:
        db_name = db_name or self.current_db
        if not db_name:
            raise EmulatorError("Getting analyzing error. Detail message: No database selected.", 1046)
        # QueryAnalyzer.resolveTable (3.5 e223275f78): MetaUtils.checkDbNullAndReport (reportSemanticException
        # ERR_BAD_DB_ERROR), reportAnalysisException(ERR_BAD_TABLE_ERROR) rethrown as a SemanticException: the
        # analyzing text with the code the ErrorReport set
        db = self.metastore.databases.get(db_name)
        if db is None:
            raise analyzing_error(f"Unknown database '{db_name}'", ERR_BAD_DB_ERROR)
        table = db.table(name)
        if table is None:
            raise analyzing_error(f"Unknown table '{db_name}.{name}'", ERR_BAD_TABLE_ERROR)
        return db_name, table

    def source_tree(self, db_name: str, table: Table, depth: int = 0,
                    partitions: list[str] | None = None) -> exp.Expression:
        if table.has_data:
            cols = ", ".join("`" + c.name.replace("`", "``") + "`" for c in table.columns)
            where = ""
            if partitions:
                for name in partitions:
                    if table.partition(name) is None:
                        raise EmulatorError(f"Getting analyzing error. Detail message: Unknown partition '{name}' "
                                            f"in table '{table.name}'.")
                names = ", ".join("'" + n.replace("'", "''") + "'" for n in partitions)
                where = f" WHERE {PARTITION_COLUMN} IN ({names})"
            elif any(p.is_temp for p in table.partitions):  # a temporary partition's rows are not the table's
                names = ", ".join("'" + p.name.replace("'", "''") + "'" for p in table.partitions if p.is_temp)
                where = f" WHERE {PARTITION_COLUMN} NOT IN ({names})"
            return parse(f"SELECT {cols} FROM {physical(table.id)}{where}")
        if depth > 10:
            raise EmulatorError(f"Getting analyzing error. Detail message: View {table.name} is recursive.")
        return Rewriter(self.metastore, db_name).rewrite(parse(table.query_sql), depth + 1)

    def rewrite(self, tree: exp.Expression, depth: int = 0, skip: exp.Table | None = None) -> exp.Expression:
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        for table in list(tree.find_all(exp.Table)):
            if table is skip or not isinstance(table.this, exp.Identifier):
                continue
            if not table.db and table.name.lower() in ctes:
                continue
            db_name, target = self.resolve(table.db or None, table.name)
            alias = table.alias or table.name
            spec = table.args.get("partition")
            partitions = [e.name for e in spec.expressions] if spec is not None else None
            replacement = exp.Subquery(this=self.source_tree(db_name, target, depth, partitions),
                                       alias=exp.TableAlias(this=exp.to_identifier(alias)))
            table.replace(replacement)
        return tree.transform(_murmur)

    def select_sql(self, sql: str, depth: int = 0) -> str:
        tree = parse(sql)
        return to_duckdb(self.rewrite(tree, depth))

    def referenced_tables(self, sql: str) -> list[tuple[str, str]]:
        tree = parse(sql)
        ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
        found = []
        for table in tree.find_all(exp.Table):
            if isinstance(table.this, exp.Identifier) and (table.db or table.name.lower() not in ctes):
                found.append((table.db or self.current_db or "", table.name))
        return found


def to_duckdb(tree: exp.Expression) -> str:
    sql = tree.sql(dialect="duckdb")
    return re.sub(r"TABLE\((GENERATE_SERIES\([^()]*\))\)", r"\1", sql, flags=re.IGNORECASE)


def where_sql(rewriter: Rewriter, node: exp.Expression | None) -> str:
    if node is None:
        return "TRUE"
    condition = node.this if isinstance(node, exp.Where) else node
    wrapper = exp.select("1").where(condition.copy())
    rewritten = rewriter.rewrite(wrapper)
    return rewritten.args["where"].this.sql(dialect="duckdb")


def partition_column() -> str:
    return PARTITION_COLUMN
