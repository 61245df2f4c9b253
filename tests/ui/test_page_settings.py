"""The page's settings from sr_airflow.toml ([ui], else the shipped DAGs' repository) and its durations."""

from __future__ import annotations

import pytest

from sr_airflow.engine.errors import InvalidArgumentError
from sr_airflow.ui.settings import PageRepository, load_settings, parse_duration


@pytest.mark.parametrize(("text", "seconds"), [("26h", 93600), ("90m", 5400), ("2d", 172800), ("1w", 604800),
                                               ("45s", 45), ("3600", 3600), (600, 600), ("1.5h", 5400)])
def test_durations(text, seconds):
    assert parse_duration(text, "rpo_target") == seconds


@pytest.mark.parametrize("text", ["0h", "-1h", "26 hours", "h", True, [1]])
def test_bad_durations_name_the_key(text):
    with pytest.raises(InvalidArgumentError, match=r"^rpo_target must be a positive duration"):
        parse_duration(text, "rpo_target")


def test_without_ui_the_page_shows_the_shipped_dags_repository(tmp_path):
    path = tmp_path / "sr_airflow.toml"
    path.write_text('[defaults]\nrepository = "nightly"\nlocation = "s3://b/p"\nstorage_conn_id = "aws_b"\n'
                    '[sr_full_backup]\nrepository = "nightly_full"\n')
    settings = load_settings(path)
    assert settings.repositories == (PageRepository("nightly_full", "s3://b/p", "aws_b"),)
    assert settings.rpo_target_seconds == 26 * 3600


def test_ui_lists_repositories_and_sets_the_target(tmp_path):
    path = tmp_path / "sr_airflow.toml"
    path.write_text('[ui]\nrpo_target = ""\nrepositories = [{repository = "a", location = "s3://x/a"}, '
                    '{repository = "b", location = "gs://y/b", storage_conn_id = "gcp"}]\n')
    settings = load_settings(path)
    assert [r.repository for r in settings.repositories] == ["a", "b"]
    assert settings.find("b").storage_conn_id == "gcp" and settings.rpo_target_seconds is None
    with pytest.raises(LookupError, match="repository 'c' is not shown on this page; shown: a, b"):
        settings.find("c")


@pytest.mark.parametrize(("ui", "message"), [
    ('rpo = "1h"', r"\[ui\] has unknown key 'rpo'"),
    ("repositories = []", r"\[ui\]\.repositories must list at least one repository"),
    ('repositories = [{repository = "a"}]', r"repositories\[0\] must be a table with non-empty repository"),
])
def test_bad_ui_sections_say_what_is_wrong(tmp_path, ui, message):
    path = tmp_path / "sr_airflow.toml"
    path.write_text(f"[ui]\n{ui}\n")
    with pytest.raises(InvalidArgumentError, match=message):
        load_settings(path)
