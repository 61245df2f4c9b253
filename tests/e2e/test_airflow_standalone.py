"""End to end on a real Airflow: `airflow standalone` (scheduler, DAG processor, triggerer, API server).

sr_migration is triggered through the REST API with a conf and the target cluster is compared with the source;
sr_incremental_backup is backfilled with `airflow backfill create` over several dates and each date's partition
is found in its own snapshot; backup and restore task processes are SIGKILLed in each job state and the
scheduler's retry (every task has one retry here) finishes the run with that one job. Everything runs on
127.0.0.1 and is stopped at the end.
"""

from __future__ import annotations

import json
import os
import signal

import boto3
import pymysql
import pytest

from sr_airflow.testing.emulator.process import EmulatorServer
from sr_airflow.testing.servers import S3Server
from tests.support.airflow_processes import AIRFLOW_BIN, starting_standalone
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.integration]

KEY, SECRET, BUCKET = "e2e-key", "e2e-secret", "e2e-backups"
SHIPPED_DAG_IDS = ("sr_full_backup", "sr_incremental_backup", "sr_migration", "sr_restore", "sr_restore_drill",
                   "sr_retention")


def seed(server):
    server.sql("CREATE DATABASE shop",
        "CREATE TABLE shop.orders (id INT, day DATE, amount DECIMAL(10, 2)) DUPLICATE KEY(id) PARTITION BY "
        "RANGE(day) (PARTITION p20240101 VALUES LESS THAN ('2024-01-02'), PARTITION p20240102 VALUES LESS THAN "
        "('2024-01-03'), PARTITION p20240103 VALUES LESS THAN ('2024-01-04')) DISTRIBUTED BY HASH(id) BUCKETS 2",
        "CREATE TABLE shop.customers (id INT, name VARCHAR(32)) PRIMARY KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1",
        "INSERT INTO shop.orders VALUES (1, '2024-01-01', 5), (2, '2024-01-02', 7), (3, '2024-01-03', 9)",
        "INSERT INTO shop.customers VALUES (1, 'ana'), (2, 'bo')")


def partitions(server, database):
    return {(t, p): (n, v) for t, p, n, v in server.sql(
        "SELECT TABLE_NAME, PARTITION_NAME, ROW_COUNT, VISIBLE_VERSION FROM information_schema.partitions_meta"
                f" WHERE DB_NAME = '{database}'")}


@pytest.fixture(scope="module")
def clusters(tmp_path_factory):
    base = tmp_path_factory.mktemp("e2e")
    with S3Server() as s3:
        boto3.client("s3", endpoint_url=s3.endpoint_url, aws_access_key_id=KEY, aws_secret_access_key=SECRET,
                     region_name="us-east-1").create_bucket(Bucket=BUCKET)
        with EmulatorServer(base / "source", min_phase_seconds=0.2) as source, \
                EmulatorServer(base / "target", min_phase_seconds=0.2) as target:
            seed(source)
            yield s3, source, target, base


@pytest.fixture(scope="module")
def airflow(clusters):
    s3, source, target, base = clusters
    config = base / "sr_airflow.toml"
    config.write_text(f"""
[defaults]
deferrable = false  # the kill tests below SIGKILL the worker process that waits on the job
repository = "e2e_repo"
location = "s3://{BUCKET}/e2e"
storage_conn_id = "aws_e2e"
databases = ["shop"]
starrocks_conn_id = "sr_source"
[sr_migration]
source_conn_id = "sr_source"
target_conn_id = "sr_target"
max_catch_up_rounds = 1
[sr_incremental_backup]
mode = "logical_date"
schedule = "@daily"
""")
    aws = {"conn_type": "aws", "login": KEY, "password": SECRET,
           "extra": {"endpoint_url": s3.endpoint_url, "region_name": "us-east-1"}}
    extra = {"AIRFLOW__CORE__DEFAULT_TASK_RETRIES": "1", "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "3",
             "SR_AIRFLOW_CONFIG": str(config),
             "AIRFLOW_CONN_SR_SOURCE": f"starrocks://root:@127.0.0.1:{source.port}/",
             "AIRFLOW_CONN_SR_TARGET": f"starrocks://root:@127.0.0.1:{target.port}/",
             "AIRFLOW_CONN_AWS_E2E": json.dumps(aws)}
    with starting_standalone(base, extra) as starting:
        running = starting.ready(SHIPPED_DAG_IDS, timeout=420)  # about 2 min on a busy 2-core machine
        yield running.client, running.env, AIRFLOW_BIN


def wait_run(client, dag_id, run_id, timeout=420):
    def ended() -> str | None:
        state = client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}").json().get("state")
        return state if state in ("success", "failed") else None

    return wait_until(ended, timeout, f"{dag_id} run {run_id} ending", interval=1)


def test_migration_triggered_through_the_rest_api(clusters, airflow):
    _, source, target, _ = clusters
    client, _, _ = airflow
    assert client.patch("/api/v2/dags/sr_migration", json={"is_paused": False}).status_code == 200
    response = client.post("/api/v2/dags/sr_migration/dagRuns",
                           json={"logical_date": None, "conf": {"database": "shop", "verify": "checksums"}})
    assert response.status_code == 200, response.text
    run_id = response.json()["dag_run_id"]
    assert wait_run(client, "sr_migration", run_id) == "success"
    assert partitions(target, "shop") == partitions(source, "shop")
    assert target.sql("SELECT id, name FROM shop.customers ORDER BY id") == ((1, "ana"), (2, "bo"))
    tasks = client.get(f"/api/v2/dags/sr_migration/dagRuns/{run_id}/taskInstances").json()["task_instances"]
    assert {t["task_id"]: t["state"] for t in tasks}["final_check"] == "success"


@pytest.mark.timeout(900)  # a scheduled run and three backfill runs on a loaded machine
def test_backfill_backs_up_each_date_partition(clusters, airflow):
    s3, source, _, _ = clusters
    client, env, airflow_bin = airflow
    from sr_airflow.engine.catalog import SnapshotKind
    from sr_airflow.storage import get_storage
    from sr_airflow.storage.catalog_store import CatalogStore

    # Unpausing the @daily DAG makes the scheduler create the latest interval's scheduled run. Let it end before
    # the backfill is created: on SQLite, a backfill created while the scheduler commits that run can crash the
    # scheduler (StaleDataError on dag_run, seen in Airflow 3.3.2), and standalone does not restart it.
    assert client.patch("/api/v2/dags/sr_incremental_backup", json={"is_paused": False}).status_code == 200

    def scheduled_run_ended() -> dict | None:
        runs = [r for r in client.get("/api/v2/dags/sr_incremental_backup/dagRuns").json()["dag_runs"]
                if r["run_type"] == "scheduled"]
        return runs[0] if runs and runs[0]["state"] in ("success", "failed") else None

    wait_until(scheduled_run_ended, 420, "the scheduled run made by unpausing ending", interval=1)
    source.sql("INSERT INTO shop.orders VALUES (11, '2024-01-01', 1), (12, '2024-01-02', 2), (13, '2024-01-03', 3)")
    storage = get_storage(f"s3://{BUCKET}/e2e", endpoint=s3.endpoint_url, aws_access_key_id=KEY,
                          aws_secret_access_key=SECRET)
    # whether a good full of shop is already in the catalog (the migration test's, when it ran first, or the
    # scheduled run's): the first backfill date then builds on it, else it starts the chain itself
    prior_full = any(e.snapshot_kind is SnapshotKind.FULL and e.is_good and e.chain_tables is None
                     for e in CatalogStore(storage, "e2e_repo").load().entries("shop"))
    # What `airflow backfill create --dag-id sr_incremental_backup --from-date 2024-01-01 --to-date 2024-01-03`
    # does, through the REST API (the CLI would write the same rows into the SQLite database the scheduler holds).
    # On SQLite Airflow answers 503 "Database is locked" while the scheduler writes: ask again, a bounded number
    # of times (PostgreSQL or MySQL, as production uses, have no such lock).
    def create_backfill():
        response = client.post("/api/v2/backfills", json={
            "dag_id": "sr_incremental_backup", "from_date": "2024-01-01T00:00:00Z",
            "to_date": "2024-01-03T00:00:00Z", "max_active_runs": 1, "run_backwards": False, "dag_run_conf": {},
            "reprocess_behavior": "none"})
        return response if response.status_code != 503 else None

    response = wait_until(create_backfill, 60, "the backfill accepted (not 503 Database is locked)", interval=1.5)
    assert response.status_code == 200, response.text

    def backfill_runs_ended() -> list | None:
        runs = [r for r in client.get("/api/v2/dags/sr_incremental_backup/dagRuns").json()["dag_runs"]
                if r["run_type"] == "backfill"]
        return runs if len(runs) == 3 and all(r["state"] in ("success", "failed") for r in runs) else None

    runs = wait_until(backfill_runs_ended, 600, "the three backfill runs ending", interval=2)
    assert sorted(r["state"] for r in runs) == ["success"] * 3, runs
    entries = [e for e in CatalogStore(storage, "e2e_repo").load().entries("shop")
               if e.dag_id == "sr_incremental_backup" and (e.run_id or "").startswith("backfill__")]
    held = [(e.snapshot_kind.value, tuple(sorted(p.partition for p in e.partitions if p.table == "orders")))
            for e in sorted(entries, key=lambda e: e.backup_time)]
    # With a full already there (the migration's, taken before the inserts above), each date ships exactly its own
    # changed partition. Run alone, the first date starts the chain with a full that already holds all three
    # partitions at their current versions, so the later dates find nothing newer to ship and record no entry.
    if prior_full:
        assert held == [("incremental", ("p20240101",)), ("incremental", ("p20240102",)),
                        ("incremental", ("p20240103",))], held
    else:
        assert held == [("full", ("p20240101", "p20240102", "p20240103"))], held


def _chromium():
    """Headless Chromium driven through chromedriver (the caller quits it)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1400,1400", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def test_migration_triggered_through_the_ui_parameter_form(clusters, airflow):
    """Headless Chromium opens the Airflow UI, fills sr_migration's parameter form and triggers it."""
    from selenium.webdriver.common.by import By

    _, source, target, _ = clusters
    client, _, _ = airflow
    browser = _chromium()
    try:
        browser.implicitly_wait(30)
        browser.get(f"{client.base_url}/dags/sr_migration")
        browser.find_element(By.XPATH, "//button[normalize-space()='Trigger']").click()
        browser.find_element(By.ID, "element_database").send_keys("shop")
        browser.find_element(By.ID, "element_target_database").send_keys("shop_from_ui")
        submit = browser.find_element(By.CSS_SELECTOR, "[data-testid=trigger-dag-submit]")
        assert submit.is_enabled()
        submit.click()
        runs = wait_until(lambda: [r for r in client.get("/api/v2/dags/sr_migration/dagRuns").json()["dag_runs"]
                                   if (r.get("conf") or {}).get("target_database") == "shop_from_ui"],
                          60, "the run the form created", interval=1)
    finally:
        browser.quit()
    assert len(runs) == 1, "the form did not create a run"
    assert runs[0]["conf"]["database"] == "shop" and runs[0]["conf"]["allow_overwrite"] is False
    assert wait_run(client, "sr_migration", runs[0]["dag_run_id"]) == "success"
    assert {k: v[0] for k, v in partitions(target, "shop_from_ui").items()} == {
        k: v[0] for k, v in partitions(source, "shop").items()}


SHIPPED_DAGS = ("sr_full_backup", "sr_incremental_backup", "sr_migration", "sr_restore", "sr_restore_drill",
                "sr_retention")
# Each field of the open trigger dialog as the user sees it, by its label (the param's title): whether the form marks
# it required (Chakra's field label carries data-required, a required indicator follows it), whether it is the
# date-time picker, and its controls (tag, type, role).
_FORM_FIELDS_JS = """
return Array.from(document.querySelectorAll('[data-scope="field"][data-part="root"]')).map(function (root) {
  var label = root.querySelector('label');
  return {label: label ? label.textContent.replace(/[*\\s]+$/, '').trim() : null,
          required: !!(root.querySelector('[data-part="required-indicator"]')
                       || root.querySelector('label[data-required]')),
          datetime: !!root.querySelector('[data-testid="datetime-input"]'),
          controls: Array.from(root.querySelectorAll('input, textarea')).map(function (c) {
            return [c.tagName.toLowerCase(), c.getAttribute('type'), c.getAttribute('role')]; }),
          html: root.outerHTML.slice(0, 1500)};
});
"""


def _optional(param: dict) -> bool:
    """A param the user may leave empty: an empty default that may stay empty (the API shows a default "" as
    null; minLength 1 says it must be filled in), or a help text that says so."""
    text = (param.get("description") or "").lower()
    empty_default = param["value"] in (None, "", [], {}) and not param["schema"].get("minLength")
    return empty_default or "optional" in text or "empty:" in text or "(empty" in text


def test_each_shipped_dag_trigger_form_marks_only_needed_fields_required(airflow):
    """Each shipped DAG's trigger dialog in headless Chromium: no field the user may leave empty is marked required
    (the database to restore or move is), sr_restore's point in time is the date-time picker, and the RESTORE
    properties (replicas, timeout, allow loads) are fields of sr_restore and sr_migration."""
    from selenium.webdriver.common.by import By

    client, _, _ = airflow
    browser = _chromium()
    forms = {}
    try:
        browser.implicitly_wait(30)
        for dag_id in SHIPPED_DAGS:
            params = client.get(f"/api/v2/dags/{dag_id}/details").json()["params"]
            browser.get(f"{client.base_url}/dags/{dag_id}")
            browser.find_element(By.XPATH, "//button[normalize-space()='Trigger']").click()
            browser.find_element(By.ID, f"element_{next(iter(params))}")  # the form has rendered
            fields = {f["label"]: f for f in browser.execute_script(_FORM_FIELDS_JS)}
            forms[dag_id] = {name: fields.get(param["schema"].get("title", name)) for name, param in params.items()}
            forms[dag_id]["optional"] = [name for name, param in params.items() if _optional(param)]
    finally:
        browser.quit()
    for dag_id, fields in forms.items():
        optional = fields.pop("optional")
        assert [name for name, field in fields.items() if field is None] == [], dag_id
        wrongly_required = [name for name in optional if fields[name]["required"]]
        assert wrongly_required == [], (dag_id, [fields[name]["html"] for name in wrongly_required])
    for dag_id in ("sr_restore", "sr_migration"):
        fields = forms[dag_id]
        assert fields["database"]["required"], fields["database"]["html"]  # the check does see a required field
        assert fields["replication_num"]["controls"] == [["input", "text", "spinbutton"]], fields["replication_num"]
        assert fields["timeout"]["controls"] == [["input", "text", "spinbutton"]], fields["timeout"]
        assert fields["allow_load"]["controls"] == [["input", "checkbox", None]], fields["allow_load"]
    assert forms["sr_restore"]["point_in_time"]["datetime"], forms["sr_restore"]["point_in_time"]["html"]
    assert [name for name, field in forms["sr_restore"].items() if field["datetime"]] == ["point_in_time"]


def _task_process(ti_id: str) -> int | None:
    """The pid of the process running task instance ``ti_id`` (Airflow titles it ``airflow worker -- <id>``)."""
    import psutil

    for process in psutil.process_iter(["pid", "cmdline"]):
        if f"airflow worker -- {ti_id}" in " ".join(process.info["cmdline"] or ()):
            return process.info["pid"]
    return None


BACKUP_STATES = ("PENDING", "SNAPSHOTING", "UPLOAD_SNAPSHOT", "UPLOADING", "SAVE_META", "UPLOAD_INFO")
RESTORE_STATES = ("PENDING", "SNAPSHOTING", "DOWNLOAD", "DOWNLOADING", "COMMIT", "COMMITTING")
STATE_COLUMN = {"BACKUP": 3, "RESTORE": 4}  # SHOW BACKUP / SHOW RESTORE


def _kill_when(client, server, dag_id: str, run_id: str, task_id: str, kind: str, database: str, state: str) -> int:
    """SIGKILL the process of the run's ``task_id`` while ``database``'s latest job is in ``state``."""

    def task_process_in_state() -> int | None:
        try:
            rows = server.sql(f"SHOW {kind} FROM `{database}`")
        except pymysql.err.OperationalError as err:  # a restore's new database is not created yet:
            if err.args[0] != 5501:  # ERR_BAD_DB_ERROR (BackupRestoreAnalyzer.getDatabase)
                raise
            return None
        if not rows or rows[-1][STATE_COLUMN[kind]] != state:
            return None
        tis = client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances").json()
        running = [t["id"] for t in tis["task_instances"] if t["task_id"] == task_id and t["state"] == "running"]
        return _task_process(running[0]) if running else None

    pid = wait_until(task_process_in_state, 300, f"the {task_id} task's process while its job is in {state}")
    os.kill(pid, signal.SIGKILL)
    return pid


def _trigger(client, dag_id: str, conf: dict) -> str:
    client.patch(f"/api/v2/dags/{dag_id}", json={"is_paused": False})
    response = client.post(f"/api/v2/dags/{dag_id}/dagRuns", json={"logical_date": None, "conf": conf})
    assert response.status_code == 200, response.text
    return response.json()["dag_run_id"]


def _tries(client, dag_id: str, run_id: str, task_id: str) -> list[int]:
    tasks = client.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances").json()["task_instances"]
    return [t["try_number"] for t in tasks if t["task_id"] == task_id]


@pytest.fixture(scope="module")
def slow_jobs(clusters):
    """A database to kill tasks on, and jobs slow enough to be caught in each state (2 s per state)."""
    _, source, _, _ = clusters
    source.sql("CREATE DATABASE killed",
        "CREATE TABLE killed.t (id INT) DUPLICATE KEY(id) DISTRIBUTED BY HASH(id) BUCKETS 1",
        "INSERT INTO killed.t VALUES (1), (2), (3)",
        'ADMIN SET FRONTEND CONFIG ("emulator_min_phase_seconds" = "2")')
    yield source
    source.sql('ADMIN SET FRONTEND CONFIG ("emulator_min_phase_seconds" = "0.2")')


@pytest.mark.parametrize("state", BACKUP_STATES)
def test_a_backup_task_killed_in_each_state_is_retried_by_the_scheduler_into_one_job(airflow, slow_jobs, state):
    source, (client, _, _) = slow_jobs, airflow
    before = len([q for q in source.logged_statements() if q.startswith("BACKUP DATABASE `killed`")])
    run_id = _trigger(client, "sr_full_backup", {"databases": ["killed"]})
    _kill_when(client, source, "sr_full_backup", run_id, "backup", "BACKUP", "killed", state)
    assert wait_run(client, "sr_full_backup", run_id) == "success"
    assert _tries(client, "sr_full_backup", run_id, "backup") == [2]  # the scheduler's retry did the rest
    backups = [q for q in source.logged_statements() if q.startswith("BACKUP DATABASE `killed`")]
    assert len(backups) - before == 1, backups[before:]  # one StarRocks job for the run: the retry found it
    assert source.sql("SHOW BACKUP FROM killed")[-1][3] == "FINISHED"


@pytest.mark.parametrize("state", RESTORE_STATES)
def test_a_restore_task_killed_in_each_state_is_retried_by_the_scheduler_into_one_job(airflow, slow_jobs, state):
    source, (client, _, _) = slow_jobs, airflow
    if not any(row[3] == "FINISHED" for row in source.sql("SHOW BACKUP FROM killed")):
        assert wait_run(client, "sr_full_backup", _trigger(client, "sr_full_backup", {"databases": ["killed"]})) \
            == "success"
    target = f"killed_{state.lower()}"
    run_id = _trigger(client, "sr_restore", {"database": "killed", "target_database": target})
    _kill_when(client, source, "sr_restore", run_id, "restore", "RESTORE", target, state)
    assert wait_run(client, "sr_restore", run_id) == "success"
    assert _tries(client, "sr_restore", run_id, "restore") == [2]
    restores = [q for q in source.logged_statements() if q.startswith("RESTORE ") and f"`{target}`" in q]
    assert len(restores) == 1, restores
    assert source.sql(f"SHOW RESTORE FROM `{target}`")[-1][4] == "FINISHED"
    assert source.sql(f"SELECT count(*) FROM `{target}`.t") == ((3,),)
