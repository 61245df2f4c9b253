"""CLI tests: one module-scoped catalog written by real backups, and one restore drill of it, on demand
(tests/cli/backups.py)."""

from __future__ import annotations

import pytest

from tests.cli.backups import LOCATION, REPOSITORY, make_backups, run_drill
from tests.support.emulators import FAST_PHASE, running_emulator


@pytest.fixture(scope="module")
def cli_emulator(airflow_db, s3_server):
    with running_emulator("sr_cli_source", s3_server, min_phase_seconds=FAST_PHASE) as emu:
        yield emu


@pytest.fixture(scope="module")
def backups(cli_emulator, s3_server, tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        yield make_backups(cli_emulator, s3_server, tmp_path_factory.mktemp("cli"), mp)


@pytest.fixture(scope="module")
def drill_run_id(cli_emulator, backups, tmp_path_factory) -> str:
    """One sr_restore_drill run of the backed-up database (requested only by the tests of the last drill)."""
    with pytest.MonkeyPatch.context() as mp:
        return run_drill(cli_emulator, tmp_path_factory.mktemp("cli_drill"), mp)


@pytest.fixture(scope="module")
def storage(s3_server):
    """The repository location as the product's storage reads it."""
    from sr_airflow.storage import get_storage
    from tests.support.s3 import S3_KEY, S3_SECRET

    return get_storage(LOCATION, endpoint=s3_server.endpoint_url, aws_access_key_id=S3_KEY,
                       aws_secret_access_key=S3_SECRET, region_name="us-east-1")


@pytest.fixture(scope="module")
def catalog(backups, storage):
    """The catalog as the product's store reads it: the reference the CLI's output is checked against."""
    from sr_airflow.storage.catalog_store import CatalogStore

    return CatalogStore(storage, REPOSITORY).load()
