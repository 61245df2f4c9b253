"""HDFS through WebHDFS against the WebHDFS test double (a process): client calls and the overwrite swap."""

from __future__ import annotations

import pytest
from hdfs import InsecureClient
from hdfs.util import HdfsError

from sr_airflow.storage import get_storage
from sr_airflow.storage.catalog_store import CatalogStore
from tests.support.storage import sample_entry as _entry
from tests.support.storage import unique

pytestmark = pytest.mark.integration


def test_webhdfs_double_serves_the_hdfscli_calls(webhdfs_server):
    client = InsecureClient(webhdfs_server.url, user="hdfs")
    base = f"/{unique('cli')}"
    client.makedirs(f"{base}/d")
    client.write(f"{base}/d/f", data=b"abc")
    client.write(f"{base}/d/f", data=b"def", append=True)
    with client.read(f"{base}/d/f") as reader:
        assert reader.read() == b"abcdef"
    assert client.status(f"{base}/d/f")["length"] == 6
    assert client.list(f"{base}/d") == ["f"]
    client.rename(f"{base}/d/f", f"{base}/g")
    assert client.status(f"{base}/d/f", strict=False) is None
    assert client.delete(base, recursive=True) is True
    assert client.status(base, strict=False) is None


def test_crash_in_the_hdfs_overwrite_swap_leaves_the_new_entry_readable(webhdfs_server, monkeypatch):
    storage = get_storage(f"hdfs://nn:8020/{unique('swap')}", webhdfs_url=webhdfs_server.url, user="hdfs")
    store = CatalogStore(storage, "test_repo")
    pending = _entry("snap_x", status="pending")
    store.put(pending)

    # A crash between "delete old" and "rename temp" cannot be provoked from a real server: fail the rename.
    def crash(*_args, **_kwargs):
        raise KeyboardInterrupt("simulated crash before rename")

    monkeypatch.setattr(storage.client, "rename", crash)
    done = pending.with_status("ok")
    with pytest.raises(KeyboardInterrupt, match="before rename"):
        store.put(done)
    monkeypatch.undo()
    assert not storage.exists(store.entry_key("snap_x"))
    assert store.load().get("snap_x") == done


def test_removing_an_entry_also_removes_a_leftover_temp_file(webhdfs_server):
    storage = get_storage(f"hdfs://nn:8020/{unique('leftover')}", webhdfs_url=webhdfs_server.url, user="hdfs")
    store = CatalogStore(storage, "test_repo")
    entry = _entry("snap_y")
    store.put(entry)
    storage.client.write("/" + store.entry_key("snap_y") + ".__sr_tmp__old", data=b"stale", overwrite=True)
    store.remove("snap_y")
    assert store.load().entries() == [] and storage.list("") == []


def test_webhdfs_double_answers_errors_as_hdfs_does(webhdfs_server):
    import requests

    base = f"{webhdfs_server.url}/webhdfs/v1"
    missing = requests.get(f"{base}/no/such?op=GETFILESTATUS", timeout=5)
    assert missing.status_code == 404
    assert missing.json()["RemoteException"]["exception"] == "FileNotFoundException"
    create = requests.put(f"{base}/{unique('redir')}/f?op=CREATE", allow_redirects=False, timeout=5)
    assert create.status_code == 307 and "datanode=true" in create.headers["Location"]
    assert requests.delete(f"{base}/?op=DELETE&recursive=true", timeout=5).status_code == 403
    escape = requests.get(f"{base}/../../etc/passwd?op=OPEN", timeout=5)
    assert escape.status_code in (400, 404)
    client = InsecureClient(webhdfs_server.url, user="hdfs")
    folder = f"/{unique('nonempty')}"
    client.write(f"{folder}/x", data=b"1")
    client.write(f"{folder}/y", data=b"2")
    with pytest.raises(HdfsError, match="is non empty"):
        client.delete(folder)
    with pytest.raises(HdfsError, match="Unable to rename"):  # HDFS rename never overwrites
        client.rename(f"{folder}/x", f"{folder}/y")
