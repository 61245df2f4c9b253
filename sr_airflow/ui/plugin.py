"""The Airflow plugin of the backups page: its FastAPI app (mounted by the API server at ``/sr-backups``) and the
navigation entry "StarRocks backups" that shows the page inside Airflow's UI. Registered through the
``airflow.plugins`` entry point (pyproject.toml), so installing sr_airflow is enough.

Every Airflow process loads plugins (task runners too); the app, and FastAPI with it, is built only when the API
server asks for ``fastapi_apps``.
"""

from __future__ import annotations

import functools

from airflow.plugins_manager import AirflowPlugin

from sr_airflow.ui.settings import MOUNT


@functools.cache
def _app():
    from sr_airflow.ui.app import create_app

    return create_app()


class SrBackupsPlugin(AirflowPlugin):
    name = "sr_backups"
    external_views = [{
        "name": "StarRocks backups",
        "href": f"{MOUNT}/",
        "destination": "nav",
        "category": "browse",
        "url_route": "sr-backups",
    }]

    @property
    def fastapi_apps(self) -> list[dict]:  # type: ignore[override]
        return [{"app": _app(), "url_prefix": MOUNT, "name": "StarRocks backups"}]
