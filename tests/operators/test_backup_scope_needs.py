"""operators/privileges.py backup_scope_needs: what the backup's pre-flight asks of a scope. Besides BACKUP's own
checks (EXPORT), information_schema must show the views and MVs the catalog entry records, else a restore planned
from the entry leaves them out (Authorizer.doCheckTableLikeObject, 3.5 e223275f78 / 4.0 312b0d9e)."""

from __future__ import annotations

from sr_airflow.engine.grants import Grant
from sr_airflow.engine.scope import ObjectKind, ObjectRef, Scope
from sr_airflow.operators.privileges import backup_scope_needs

REPOSITORY = Grant("REPOSITORY", "SYSTEM")
ALL_VIEWS, ALL_MVS = Grant("SELECT", "VIEW", "shop", "*"), Grant("SELECT", "MATERIALIZED VIEW", "shop", "*")


def test_a_whole_database_or_a_census_needs_all_its_views_and_mvs_shown():
    assert backup_scope_needs(Scope("shop")) == [REPOSITORY, Grant("EXPORT", "TABLE", "shop", "*"), ALL_VIEWS,
                                                 ALL_MVS]
    planned = Scope("shop", objects=[ObjectRef.table("orders")])  # an incremental's tables, with the plan's census
    assert backup_scope_needs(planned, census=True) == [REPOSITORY, Grant("EXPORT", "TABLE", "shop", "orders"),
                                                        ALL_VIEWS, ALL_MVS]
    assert all(g.any_privilege for g in backup_scope_needs(Scope("shop"))[2:])


def test_a_scope_without_census_needs_only_the_views_and_mvs_it_names():
    assert backup_scope_needs(Scope("shop", objects=[ObjectRef.table("orders")])) == [
        REPOSITORY, Grant("EXPORT", "TABLE", "shop", "orders")]
    named = Scope("shop", objects=[ObjectRef(ObjectKind.VIEW, "v"), ObjectRef(ObjectKind.MATERIALIZED_VIEW, "mv")])
    assert backup_scope_needs(named)[3:] == [Grant("SELECT", "VIEW", "shop", "v"),
                                             Grant("SELECT", "MATERIALIZED VIEW", "shop", "mv")]
    assert backup_scope_needs(Scope("shop", all_of=[ObjectKind.MATERIALIZED_VIEW]))[2:] == [ALL_MVS]
