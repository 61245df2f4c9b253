"""The "StarRocks backups" page on a real ``airflow standalone`` (scheduler, DAG processor, triggerer and API server,
as ``make demo-ui`` starts it) with real logins: a catalog written by real backups (sr_full_backup, then two
sr_incremental_backup runs, through dag.test() on the emulator and the S3 server, while standalone starts) and a
restore drill (sr_restore_drill), checked in headless Chromium (the database's RPO row, its colour and last drill,
one chart mark per snapshot, a chosen snapshot's chain, "restore to this point" triggering sr_restore and the run
reaching success on standalone's scheduler), against the JSON endpoints (the same rows as
``sr_airflow.reporting.catalog_view`` computes here) and without a login (no page, no JSON).
The test writes docs/images/backups_page.png."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.support.airflow_processes import starting_standalone
from tests.support.dags import load_shipped_dag, states
from tests.support.emulators import FAST_PHASE, running_emulator
from tests.support.s3 import BUCKET, aws_connection_uri
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "docs" / "images" / "backups_page.png"
DATABASE, REPOSITORY, LOCATION = "ui_shop", "ui_repo", f"s3://{BUCKET}/ui-page"
PASSWORDS = {"admin": secrets.token_urlsafe(12), "viewer": secrets.token_urlsafe(12)}
USERS = {"admin": ("admin", PASSWORDS["admin"]), "viewer": ("viewer", PASSWORDS["viewer"])}


def config(source_conn_id: str, deferrable: bool = True) -> str:
    return f"""
[defaults]
deferrable = {str(deferrable).lower()}
starrocks_conn_id = "{source_conn_id}"
repository = "{REPOSITORY}"
location = "{LOCATION}"
storage_conn_id = "s3_ui"
databases = ["{DATABASE}"]
[ui]
rpo_target = "26h"
"""


def order_count(emu, database: str = DATABASE) -> int:
    return emu.sql(f"SELECT count(*) FROM {database}.orders")[0][0]


@pytest.fixture(scope="module")
def source(s3_server):
    with running_emulator("sr_ui_source", s3_server, min_phase_seconds=FAST_PHASE) as emu:
        emu.sql(f"CREATE DATABASE {DATABASE}",
                f"CREATE TABLE {DATABASE}.orders (id INT, day DATE, amount DECIMAL(10, 2)) DUPLICATE KEY(id) "
                "PARTITION BY RANGE(day) (PARTITION p1 VALUES LESS THAN ('2024-01-02'), PARTITION p2 VALUES "
                "LESS THAN ('2024-01-03')) DISTRIBUTED BY HASH(id) BUCKETS 1",
                f"INSERT INTO {DATABASE}.orders VALUES (1, '2024-01-01', 5), (2, '2024-01-02', 7)")
        yield emu


@pytest.fixture(scope="module")
def starting_airflow(source, s3_server, tmp_path_factory):
    """``airflow standalone`` with the shipped DAGs, the page's sr_airflow.toml and connections, and the two logins;
    started before the backups run so that its start-up and theirs overlap.

    Its sr_restore waits in the worker (``deferrable = false``): Airflow 3.3.2's scheduler fails a task whose
    trigger fired and whose resumed attempt is already running when the executor's success event of the deferring
    attempt arrives (``SchedulerJobRunner.process_executor_events``: its resume-after-defer guard covers only
    SCHEDULED; apache/airflow#72716, open) — on a loaded 2-core machine with the emulator's short phases, often."""
    base = tmp_path_factory.mktemp("ui-airflow")
    (base / "sr_airflow.toml").write_text(config(source.conn_id, deferrable=False))
    extra = {"SR_AIRFLOW_CONFIG": str(base / "sr_airflow.toml"),
             "AIRFLOW_CONN_S3_UI": aws_connection_uri(s3_server.endpoint_url),
             "AIRFLOW_CONN_SR_UI_SOURCE": f"starrocks://root:@127.0.0.1:{source.server.port}/"}
    with starting_standalone(base, extra, users=USERS) as starting:
        yield starting


@pytest.fixture(scope="module")
def backed_up(airflow_db, source, s3_server, tmp_path_factory):
    """A full and two incrementals of ui_shop in the catalog; yields (emulator, config text, {label: orders})."""
    emu = source
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AIRFLOW_CONN_S3_UI", aws_connection_uri(s3_server.endpoint_url))
        text = config(emu.conn_id)
        base = tmp_path_factory.mktemp("ui-dags")
        orders = {}
        for dag_id, insert in (("sr_full_backup", None), ("sr_incremental_backup", "(3, '2024-01-02', 9)"),
                               ("sr_incremental_backup", "(4, '2024-01-01', 11), (5, '2024-01-01', 1)")):
            if insert:
                emu.sql(f"INSERT INTO {DATABASE}.orders VALUES {insert}")
            dag_run = load_shipped_dag(dag_id, text, base, patch).test()
            assert set(states(dag_run).values()) <= {"success", "skipped"}, states(dag_run)
            orders[_newest_label(dag_run)] = order_count(emu)
        drill = load_shipped_dag("sr_restore_drill", text, base, patch).test()  # the page's "last drill"
        assert set(states(drill).values()) <= {"success", "skipped"}, states(drill)
        yield emu, text, orders


def _newest_label(dag_run) -> str:
    from sr_airflow.reporting.open_catalog import load_catalog

    entries = load_catalog(LOCATION, REPOSITORY, "s3_ui").entries(DATABASE)
    return max(entries, key=lambda e: e.sort_key).label


@pytest.fixture(scope="module")
def airflow(starting_airflow, backed_up):
    """Standalone ready, with the catalog written: the arguments' order starts standalone before the backups."""
    return starting_airflow.ready(dag_ids=("sr_restore",))


@pytest.fixture(scope="module")
def catalog(backed_up):
    from sr_airflow.reporting.open_catalog import load_catalog

    return load_catalog(LOCATION, REPOSITORY, "s3_ui")


@pytest.fixture(scope="module")
def drills(backed_up):
    from sr_airflow.reporting.open_catalog import open_storage
    from sr_airflow.storage.drill_store import last_drills

    return last_drills(open_storage(LOCATION, "s3_ui"), REPOSITORY)


def test_nothing_without_a_login(airflow):
    anonymous = httpx.Client(base_url=str(airflow.client.base_url), timeout=30)
    for path in ("/sr-backups/api/repositories", "/sr-backups/api/snapshots", "/sr-backups/api/rpo",
                 f"/sr-backups/api/chain?database={DATABASE}"):
        assert anonymous.get(path).status_code == 401, path
    for path in ("/sr-backups/", f"/sr-backups/restore?database={DATABASE}&label=x"):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303 and "/auth/login?next=" in response.headers["location"], path
        assert "StarRocks" not in response.text
    forged = anonymous.get("/sr-backups/api/rpo", cookies={"_token": "not-a-token"})
    assert forged.status_code in (401, 403)


def test_json_endpoints_give_the_catalog_rows(airflow, catalog, drills):
    from sr_airflow.reporting.catalog_view import chain_rows, rpo_rows, snapshot_rows

    viewer = httpx.Client(base_url=str(airflow.client.base_url), timeout=30)
    token = viewer.post("/auth/token", json={"username": "viewer", "password": PASSWORDS["viewer"]})
    viewer.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    expected = snapshot_rows(catalog)
    assert len(expected) == 3
    assert viewer.get("/sr-backups/api/snapshots").json() == expected
    assert viewer.get("/sr-backups/api/snapshots", params={"database": DATABASE}).json() == \
        snapshot_rows(catalog, database=DATABASE)
    [served] = viewer.get("/sr-backups/api/rpo").json()
    [computed] = rpo_rows(catalog, now=datetime.now(UTC), target=26 * 3600, drills=drills)
    assert abs(served.pop("age_seconds") - computed.pop("age_seconds")) < 60
    assert served == computed and served["state"] == "green"
    assert served["last_drill"]["result"] == "ok" and served["last_drill"]["scratch_database"] == "ui_shop__drill"
    middle = expected[1]
    assert viewer.get("/sr-backups/api/chain", params={"database": DATABASE, "label": middle["label"]}).json() == \
        chain_rows(catalog, DATABASE, at=datetime.fromisoformat(middle["taken_at"]))
    assert viewer.get("/sr-backups/api/repositories").json() == [
        {"repository": REPOSITORY, "location": LOCATION, "storage_conn_id": "s3_ui", "databases": [DATABASE],
         "snapshots": 3, "error": None}]
    assert viewer.get("/sr-backups/api/chain", params={"database": "nope"}).status_code == 404


@pytest.fixture(scope="module")
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1360,960", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"):
        options.add_argument(flag)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(20)
    try:
        yield driver
    finally:
        driver.quit()


def test_the_page_in_chromium_and_restore_to_a_point(airflow, backed_up, catalog, browser):
    from selenium.webdriver.common.by import By

    from sr_airflow.reporting.catalog_view import chain_rows, snapshot_rows

    emu, _, orders = backed_up
    base = str(airflow.client.base_url)
    browser.get(f"{base}/sr-backups/")  # sent to log in first, and back
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(PASSWORDS["admin"])
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    row = browser.find_element(By.CSS_SELECTOR, f"tr.rpo-row[data-database='{DATABASE}']")
    assert "state-green" in row.get_attribute("class").split()
    badge = row.find_element(By.CSS_SELECTOR, ".rpo-state .badge")
    assert badge.text == "green" and badge.value_of_css_property("background-color") == "rgba(26, 127, 55, 1)"
    assert row.find_element(By.CSS_SELECTOR, "td.last-drill").get_attribute("data-result") == "ok"
    rows = snapshot_rows(catalog, database=DATABASE)
    section = f"section.database[data-database='{DATABASE}']"
    marks = browser.find_elements(By.CSS_SELECTOR, f"{section} .snapshot-mark")
    assert sorted(m.get_attribute("data-label") for m in marks) == sorted(r["label"] for r in rows)
    assert sorted(m.get_attribute("data-kind") for m in marks) == ["full", "incremental", "incremental"]

    chosen = rows[1]  # the first incremental: its chain is the full and itself
    browser.find_element(By.CSS_SELECTOR, f"{section} .snapshot-mark[data-label='{chosen['label']}']").click()
    entries = browser.find_elements(By.CSS_SELECTOR, "#chain li.chain-entry")
    expected = chain_rows(catalog, DATABASE, at=datetime.fromisoformat(chosen["taken_at"]))["entries"]
    assert [e.get_attribute("data-label") for e in entries] == [label for label, _, _ in expected]
    assert len(expected) == 2
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOT))

    browser.get(f"{base}/plugin/sr-backups")  # the navigation's external view shows the page in Airflow's UI
    frame = browser.find_element(By.CSS_SELECTOR, "iframe[src*='/sr-backups/']")
    browser.switch_to.frame(frame)
    assert browser.find_elements(By.CSS_SELECTOR, f"tr.rpo-row[data-database='{DATABASE}']")
    browser.switch_to.default_content()

    browser.get(f"{base}/sr-backups/?repository={REPOSITORY}&database={DATABASE}&label={chosen['label']}")
    browser.find_element(By.CSS_SELECTOR, "#chain a.restore-link").click()
    browser.find_element(By.ID, "trigger-restore").click()
    runs = wait_until(lambda: [r for r in airflow.runs("sr_restore")
                               if (r.get("conf") or {}).get("snapshot_label") == chosen["label"]],
                      60, "the run the restore form created", interval=1)
    assert runs[0]["conf"]["target_database"] == f"{DATABASE}_restored"
    wait_until(lambda: "/dags/sr_restore/runs/" in browser.current_url, 30, "the browser opening the run")

    def ended() -> str | None:
        state = airflow.client.get(f"/api/v2/dags/sr_restore/dagRuns/{runs[0]['dag_run_id']}").json()["state"]
        return state if state in ("success", "failed") else None

    assert wait_until(ended, 180, "the restore run ending", interval=1, ignore=(httpx.TimeoutException,)) == \
        "success", airflow.logs_tail()
    assert order_count(emu, f"{DATABASE}_restored") == orders[chosen["label"]] == 3
