"""CLI tests: one module-scoped catalog written by real backups (tests/cli/backups.py)."""

from __future__ import annotations

import pytest

from tests.cli.backups import LOCATION, REPOSITORY, make_backups
from tests.support.emulators import FAST_PHASE, running_emulator


@pytest.fixture(scope="module")
def backups(airflow_db, s3_server, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp, \
            running_emulator("sr_cli_source", s3_server, min_phase_seconds=FAST_PHASE) as emu:
        yield make_backups(emu, s3_server, tmp_path_factory.mktemp("cli"), mp)


@pytest.fixture(scope="module")
def catalog(backups, s3_server):
    """The catalog as the product's store reads it: the reference the CLI's output is checked against."""
    from sr_airflow.storage import get_storage
    from sr_airflow.storage.catalog_store import CatalogStore
    from tests.support.s3 import S3_KEY, S3_SECRET

    storage = get_storage(LOCATION, endpoint=s3_server.endpoint_url, aws_access_key_id=S3_KEY,
                          aws_secret_access_key=S3_SECRET, region_name="us-east-1")
    return CatalogStore(storage, REPOSITORY).load()
