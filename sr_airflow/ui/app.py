"""The backups page's FastAPI app, mounted by Airflow's API server at ``MOUNT`` (``plugin.SrBackupsPlugin``).

Every route depends on Airflow's own authorisation: ``requires_access_dag("GET")`` — the logged-in user (the
API server's JWT cookie, or a bearer token) must be allowed to read DAGs, as the auth manager decides. Without a
login the JSON routes answer 401 and the HTML routes send the browser to the auth manager's login page.

Each request reads the catalogs afresh from storage (``reporting.open_catalog.load_catalog``, with the same
Airflow storage connection the DAGs use); the routes are plain functions, so FastAPI runs them in its thread pool.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import HTMLResponse, RedirectResponse

from sr_airflow.ui.page import ChosenSnapshot, RepositoryView, render_page, render_restore_form
from sr_airflow.ui.settings import MOUNT, PageRepository, PageSettings, load_settings


def _may_read_dags() -> Any:
    from airflow.api_fastapi.core_api.security import requires_access_dag

    return Depends(requires_access_dag("GET"))


def _settings() -> PageSettings:
    return load_settings()


def _shown(settings: PageSettings, repository: str | None) -> PageRepository:
    if repository is None:
        return settings.repositories[0]
    try:
        return settings.find(repository)
    except LookupError as exc:
        raise HTTPException(404, str(exc)) from None


def _catalog(shown: PageRepository):
    """The repository's catalog; HTTP 404 when it has none yet, 502 when storage cannot be read."""
    return _read(shown, with_drills=False)[0]


def _read(shown: PageRepository, *, with_drills: bool = True):
    """(catalog, {database: newest drill record}) of the repository, from one opening of its storage; HTTP 404
    when it has no catalog yet, 502 when storage cannot be read."""
    from sr_airflow.reporting.open_catalog import RepositoryNotFoundError, load_from_storage, open_storage
    from sr_airflow.storage.drill_store import last_drills

    try:
        storage = open_storage(shown.location, shown.storage_conn_id)
        catalog = load_from_storage(storage, shown.repository)
        return catalog, (last_drills(storage, shown.repository) if with_drills else None)
    except RepositoryNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    except Exception as exc:  # the storage or the connection: the page says which, the server stays up
        raise HTTPException(502, f"reading the catalog of {shown.repository!r} failed: {exc}") from None


def _moment(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"{name} must be an ISO-8601 date-time, got {value!r}.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _chain(catalog, database: str, at: datetime | None) -> dict[str, Any]:
    from sr_airflow.engine.errors import RestoreRefusedError, SnapshotNotFoundError
    from sr_airflow.reporting.catalog_view import chain_rows

    try:
        return chain_rows(catalog, database, at=at)
    except SnapshotNotFoundError as exc:
        raise HTTPException(404, str(exc)) from None
    except RestoreRefusedError as exc:
        raise HTTPException(409, str(exc)) from None


def _snapshot(catalog, database: str, label: str) -> dict[str, Any]:
    from sr_airflow.reporting.catalog_view import snapshot_rows

    row = next((r for r in snapshot_rows(catalog, database=database) if r["label"] == label), None)
    if row is None:
        raise HTTPException(404, f"snapshot {label!r} of database {database!r} is not in the catalog.")
    return row


def create_app() -> FastAPI:
    app = FastAPI(title="StarRocks backups", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[_may_read_dags()])

    @app.exception_handler(HTTPException)
    async def login_first(request: Request, exc: HTTPException):
        """A browser without a login is sent to log in and back; JSON callers get the 401 itself."""
        path = request.url.path[len(request.scope.get("root_path", "")):]
        if exc.status_code == 401 and not path.startswith("/api/"):
            from airflow.api_fastapi.app import get_auth_manager

            return RedirectResponse(get_auth_manager().get_url_login(next_url=str(request.url)), status_code=303)
        return await http_exception_handler(request, exc)

    @app.get("/", response_class=HTMLResponse)
    def backups_page(repository: str | None = None, database: str | None = None, label: str | None = None):
        from sr_airflow.reporting.catalog_view import rpo_rows, snapshot_rows

        settings = _settings()
        now = datetime.now(UTC)
        views, chosen = [], None
        for shown in settings.repositories:
            view = RepositoryView(shown)
            try:
                catalog, drills = _read(shown)
            except HTTPException as exc:
                view.error = exc.detail
                views.append(view)
                continue
            view.rpo = rpo_rows(catalog, now=now, target=settings.rpo_target_seconds, drills=drills)
            view.snapshots = snapshot_rows(catalog)
            if label and database and shown.repository == (repository or settings.repositories[0].repository):
                chosen = _chosen(catalog, shown.repository, database, label)
            views.append(view)
        return render_page(views, target_seconds=settings.rpo_target_seconds,
                           generated_at=now.strftime("%Y-%m-%d %H:%M:%S"), chosen=chosen)

    @app.get("/restore", response_class=HTMLResponse)
    def restore_form(request: Request, database: str, label: str, repository: str | None = None):
        shown = _shown(_settings(), repository)
        catalog = _catalog(shown)
        row = _snapshot(catalog, database, label)
        if row["status"] != "ok":
            raise HTTPException(409, f"snapshot {label!r} is {row['status']}, not ok: no restore reads it.")
        chain = _chain(catalog, database, _moment(row["taken_at"], "taken_at"))
        airflow_base = request.scope.get("root_path", "").removesuffix(MOUNT)
        return render_restore_form(shown, row, chain, airflow_base)

    @app.get("/api/repositories")
    def repositories() -> list[dict[str, Any]]:
        out = []
        for shown in _settings().repositories:
            item: dict[str, Any] = {"repository": shown.repository, "location": shown.location,
                                    "storage_conn_id": shown.storage_conn_id}
            try:
                catalog = _catalog(shown)
                item.update(databases=list(catalog.databases()), snapshots=len(catalog), error=None)
            except HTTPException as exc:
                item.update(databases=[], snapshots=0, error=exc.detail)
            out.append(item)
        return out

    @app.get("/api/snapshots")
    def snapshots(repository: str | None = None, database: str | None = None, since: str | None = None,
                  until: str | None = None) -> list[dict[str, Any]]:
        from sr_airflow.reporting.catalog_view import snapshot_rows

        catalog = _catalog(_shown(_settings(), repository))
        return snapshot_rows(catalog, database=database, since=_moment(since, "since"),
                             until=_moment(until, "until"))

    @app.get("/api/rpo")
    def rpo(repository: str | None = None) -> list[dict[str, Any]]:
        from sr_airflow.reporting.catalog_view import rpo_rows

        settings = _settings()
        catalog, drills = _read(_shown(settings, repository))
        return rpo_rows(catalog, now=datetime.now(UTC), target=settings.rpo_target_seconds, drills=drills)

    @app.get("/api/chain")
    def chain(database: str, repository: str | None = None, at: str | None = None,
              label: str | None = None) -> dict[str, Any]:
        catalog = _catalog(_shown(_settings(), repository))
        moment = _moment(at, "at")
        if label is not None:
            moment = _moment(_snapshot(catalog, database, label)["taken_at"], "taken_at")
        return _chain(catalog, database, moment)

    return app


def _chosen(catalog, repository: str, database: str, label: str) -> ChosenSnapshot:
    try:
        row = _snapshot(catalog, database, label)
        if row["status"] != "ok":
            raise HTTPException(409, f"snapshot {label!r} is {row['status']}, not ok: no restore reads it.")
        chain = _chain(catalog, database, _moment(row["taken_at"], "taken_at"))
        return ChosenSnapshot(repository, database, label, chain)
    except HTTPException as exc:
        return ChosenSnapshot(repository, database, label, None, exc.detail)
