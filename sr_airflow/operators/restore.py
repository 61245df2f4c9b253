"""The restore operators, where DAGs import them: ``StarRocksRestoreOperator`` restores one snapshot
(``operators/restore_snapshot.py``); ``StarRocksRestoreChainOperator`` restores a database as of a point in time
from the catalog, one RESTORE a snapshot of the chain (``operators/restore_chain.py``). What they share is in
``operators/restore_base.py``; the rules that find a task's own job again are ``engine/restore_resume.py``."""

from sr_airflow.operators.restore_chain import StarRocksRestoreChainOperator
from sr_airflow.operators.restore_snapshot import JOB_ID_KEY, SUBMITTED_KEY, StarRocksRestoreOperator

__all__ = ["JOB_ID_KEY", "SUBMITTED_KEY", "StarRocksRestoreChainOperator", "StarRocksRestoreOperator"]
