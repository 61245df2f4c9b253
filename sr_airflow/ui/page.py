"""The backups page and the restore form as HTML (escaped here, once). Pure functions of the rows that
``sr_airflow.reporting.catalog_view`` gives; ``app`` loads the catalogs and calls these."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import urlencode

from sr_airflow.ui.settings import PageRepository
from sr_airflow.ui.timeline import timeline_svg
from sr_airflow.ui.units import human_bytes, human_seconds

STATE_WORDS = {"green": "within target", "amber": "late (up to twice the target)", "red": "breached",
               "unknown": "no target"}

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:16px 24px;color:#1f2328;
background:#fff}h1{font-size:1.4rem;margin:0 0 4px}h2{font-size:1.15rem;margin:28px 0 8px}
h3{font-size:1rem;margin:20px 0 6px}.muted{color:#59636e;font-size:.85rem}
table{border-collapse:collapse;margin:6px 0 12px;font-size:.8rem}th,td{border-bottom:1px solid #d1d9e0;
padding:4px 10px;text-align:left;white-space:nowrap}th{background:#f6f8fa}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;color:#fff;font-weight:600}
.state-green .badge{background:#1a7f37}.state-amber .badge{background:#bf8700}.state-red .badge{background:#cf222e}
.state-unknown .badge{background:#6e7781}.drill-ok{color:#1a7f37}.drill-failed{color:#cf222e;font-weight:600}
.timeline{max-width:900px;border:1px solid #d1d9e0;border-radius:6px}
.timeline .axis{font-size:11px;fill:#59636e}.legend span{display:inline-block;width:10px;height:10px;
margin:0 4px 0 12px}.error{color:#cf222e}a{color:#0969da}section.chain{background:#f6f8fa;padding:8px 14px;
border-radius:6px;max-width:880px}tr.chosen td{background:#fff8c5}label{display:block;margin:8px 0 2px}
input[type=text]{width:320px;padding:4px}button{margin-top:12px;padding:6px 14px}pre{background:#f6f8fa;
padding:8px;max-width:880px;overflow:auto}
"""


@dataclass
class RepositoryView:
    """One repository as the page shows it: its RPO rows and snapshot rows, or why they could not be read."""

    shown: PageRepository
    rpo: list[dict[str, Any]] = field(default_factory=list)
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


@dataclass
class ChosenSnapshot:
    """The snapshot whose chain the page shows, and that chain (``chain_rows``) or why there is none."""

    repository: str
    database: str
    label: str
    chain: dict[str, Any] | None
    error: str | None = None


def _document(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>'
            f"<body>{body}</body></html>")


def page_link(repository: str, database: str, label: str) -> str:
    return "?" + urlencode({"repository": repository, "database": database, "label": label}) + "#chain"


def restore_link(repository: str, database: str, label: str) -> str:
    return "restore?" + urlencode({"repository": repository, "database": database, "label": label})


def render_page(views: list[RepositoryView], *, target_seconds: float | None, generated_at: str,
                chosen: ChosenSnapshot | None) -> str:
    target = human_seconds(target_seconds) if target_seconds else "none configured ([ui] rpo_target)"
    body = [f'<h1>StarRocks backups</h1><p class="muted">RPO target {escape(target)} · read from the catalog at '
            f'{escape(generated_at)} UTC · <a href="">refresh</a></p>']
    for view in views:
        body.append(_repository_section(view, chosen))
    return _document("StarRocks backups", "".join(body))


def _repository_section(view: RepositoryView, chosen: ChosenSnapshot | None) -> str:
    name = view.shown.repository
    out = [f'<section class="repository" data-repository="{escape(name)}"><h2>Repository {escape(name)}</h2>'
           f'<p class="muted">{escape(view.shown.location)} · storage connection '
           f'{escape(view.shown.storage_conn_id or "(none)")}</p>']
    if view.error:
        out.append(f'<p class="error">Could not read the catalog: {escape(view.error)}</p></section>')
        return "".join(out)
    if not view.rpo:
        out.append('<p class="muted">No snapshot in this repository yet.</p></section>')
        return "".join(out)
    out.append(_rpo_table(view.rpo))
    for row in view.rpo:
        database = row["database"]
        rows = [r for r in view.snapshots if r["database"] == database]
        picked = chosen if chosen and chosen.repository == name and chosen.database == database else None
        out.append(_database_section(name, database, rows, picked))
    out.append("</section>")
    return "".join(out)


def _rpo_table(rows: list[dict[str, Any]]) -> str:
    drills = any("last_drill" in r for r in rows)  # rows read with the repository's drill records
    head = ("<tr><th>Database</th><th>Newest OK snapshot</th><th>Kind</th><th>Taken at (UTC)</th><th>Age</th>"
            "<th>RPO target</th><th>State</th>" + ("<th>Last drill</th>" if drills else "") + "</tr>")
    lines = []
    for row in rows:
        state = row["state"]
        cells = [f'<td class="database-name">{escape(row["database"])}</td>',
                 f'<td>{escape(row["newest_ok"] or "none")}</td>', f'<td>{escape(row.get("kind") or "—")}</td>',
                 f'<td>{escape(_short_time(row["taken_at"]))}</td>',
                 f'<td class="age" data-seconds="{row["age_seconds"]}">{human_seconds(row["age_seconds"])}</td>',
                 f'<td>{human_seconds(row["target_seconds"])}</td>',
                 f'<td class="rpo-state" data-state="{state}"><span class="badge" title="{STATE_WORDS[state]}">'
                 f'{state}</span></td>']
        if drills:
            cells.append(_drill_cell(row.get("last_drill")))
        lines.append(f'<tr class="rpo-row state-{state}" data-database="{escape(row["database"])}">'
                     + "".join(cells) + "</tr>")
    return f'<table class="rpo"><thead>{head}</thead><tbody>{"".join(lines)}</tbody></table>'


def _drill_cell(drill: dict[str, Any] | None) -> str:
    """The newest restore drill of a database (``sr_restore_drill``): result, RTO, when, the snapshot restored."""
    if drill is None:
        return '<td class="last-drill" data-result="none">none yet</td>'
    result = drill["result"]
    title = f'{drill.get("snapshot_label") or ""} into {drill["scratch_database"]}: {drill.get("message") or result}'
    return (f'<td class="last-drill drill-{escape(result)}" data-result="{escape(result)}" title="{escape(title)}">'
            f'{escape(result)} · RTO {human_seconds(drill.get("rto_seconds"))} · '
            f'{escape(_short_time(drill["started_at"]))}</td>')


def _database_section(repository: str, database: str, rows: list[dict[str, Any]],
                      chosen: ChosenSnapshot | None) -> str:
    selected = chosen.label if chosen else None
    legend = ('<p class="legend muted"><span style="background:#1f6feb"></span>full'
              '<span style="background:#2da44e"></span>incremental'
              '<span style="border:1px dashed #59636e"></span>not OK · bars above the line: size, below: duration'
              ' · click a mark for its chain</p>')
    chart = timeline_svg(rows, link=lambda r: page_link(repository, database, r["label"]), selected=selected)
    table = ["<table class=\"snapshots\"><thead><tr><th>Label</th><th>Kind</th><th>Taken at (UTC)</th>"
             "<th>Size</th><th>Duration</th><th>Parent</th><th>Status</th><th></th></tr></thead><tbody>"]
    for row in rows:
        chosen_class = ' class="chosen"' if row["label"] == selected else ""
        restore = (f'<a class="restore-link" href="{escape(restore_link(repository, database, row["label"]))}">'
                   "restore to this point</a>") if row["status"] == "ok" else ""
        table.append(
            f'<tr{chosen_class} data-label="{escape(row["label"])}"><td><a href="'
            f'{escape(page_link(repository, database, row["label"]))}">{escape(row["label"])}</a></td>'
            f'<td>{escape(row["kind"])}</td><td>{escape(_short_time(row["taken_at"]))}</td>'
            f'<td>{human_bytes(row["bytes"])}</td><td>{human_seconds(row["seconds"])}</td>'
            f'<td>{escape(row["parent"] or "—")}</td><td>{escape(row["status"])}</td><td>{restore}</td></tr>')
    table.append("</tbody></table>")
    chain = _chain_section(chosen) if chosen else ""
    return (f'<section class="database" data-database="{escape(database)}"><h3>{escape(database)}</h3>{legend}'
            f'{chart}{"".join(table)}{chain}</section>')


def _chain_section(chosen: ChosenSnapshot) -> str:
    head = (f'<section class="chain" id="chain" data-label="{escape(chosen.label)}">'
            f'<h3>Chain of {escape(chosen.label)}</h3>')
    if chosen.chain is None:
        return f'{head}<p class="error">{escape(chosen.error or "no restore stands at this snapshot")}</p></section>'
    entries = "".join(f'<li class="chain-entry" data-label="{escape(label)}">{escape(label)} — {escape(kind)}, '
                      f'{escape(_short_time(taken))}</li>' for label, kind, taken in chosen.chain["entries"])
    jobs = chosen.chain.get("jobs") or []
    link = restore_link(chosen.repository, chosen.database, chosen.label)
    return (f'{head}<p>A restore to this point reads these snapshots, oldest first, in {len(jobs)} RESTORE '
            f'job(s) over {chosen.chain.get("partitions", 0)} partition(s):</p><ol>{entries}</ol>'
            f'<p><a class="restore-link" href="{escape(link)}">restore to this point</a></p></section>')


def _short_time(value: str | None) -> str:
    return value.replace("T", " ")[:19] if value else "—"


def render_restore_form(shown: PageRepository, row: dict[str, Any], chain: dict[str, Any] | None,
                        airflow_base: str) -> str:
    """A form for ``sr_restore`` filled in for snapshot ``row``: the browser posts it to Airflow's own REST API
    as the logged-in user (Airflow checks that user may trigger sr_restore and validates the params), then opens
    the new run. The same conf is shown for Airflow's trigger form, whose fields this Airflow cannot prefill
    from a link."""
    conf = {"database": row["database"], "snapshot_label": row["label"], "repository": shown.repository,
            "location": shown.location, "storage_conn_id": shown.storage_conn_id}
    suggested = f'{row["database"]}_restored'
    entries = "".join(f"<li>{escape(label)} — {escape(kind)}, {escape(_short_time(taken))}</li>"
                      for label, kind, taken in (chain or {}).get("entries", []))
    body = f"""<h1>Restore {escape(row["database"])} to {escape(_short_time(row["taken_at"]))} UTC</h1>
<p class="muted">Snapshot {escape(row["label"])} of repository {escape(shown.repository)} · <a href="./">back to the
backups page</a></p><ol>{entries}</ol>
<form id="restore-form" data-airflow-base="{escape(airflow_base)}">
<label for="target_database">Target database (a new name keeps {escape(row["database"])} as it is)</label>
<input type="text" id="target_database" name="target_database" value="{escape(suggested)}">
<label><input type="checkbox" id="dry_run" name="dry_run"> Dry run: only show the plan</label>
<label><input type="checkbox" id="unpause" name="unpause" checked> Unpause sr_restore if it is paused</label>
<button type="submit" id="trigger-restore">Trigger sr_restore</button>
<p id="restore-result" role="status"></p></form>
<h3>Or in Airflow's trigger form</h3><p class="muted">Open <a href="{escape(airflow_base)}/dags/sr_restore"
target="_top">sr_restore</a>, choose Trigger, and paste this under Advanced options → Configuration JSON:</p>
<pre id="restore-conf">{escape(json.dumps({**conf, "target_database": suggested}, indent=2))}</pre>
<script id="restore-conf-data" type="application/json">{_script_json(conf)}</script>
<script>{_SUBMIT_SCRIPT}</script>"""
    return _document(f"Restore {row['database']}", body)


def _script_json(value: dict[str, Any]) -> str:
    """JSON safe inside a <script> element (no "</" can close it)."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


_SUBMIT_SCRIPT = """
document.getElementById("restore-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target, result = document.getElementById("restore-result");
  const base = form.dataset.airflowBase;
  const conf = JSON.parse(document.getElementById("restore-conf-data").textContent);
  const target = form.target_database.value.trim();
  if (target) conf.target_database = target;
  conf.dry_run = form.dry_run.checked;
  const call = (method, path, body) => fetch(base + path, {method, credentials: "same-origin",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  result.textContent = "Triggering sr_restore ...";
  if (form.unpause.checked) await call("PATCH", "/api/v2/dags/sr_restore", {is_paused: false});
  const response = await call("POST", "/api/v2/dags/sr_restore/dagRuns", {logical_date: null, conf});
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) {
    result.className = "error";
    result.textContent = "Airflow refused: " + response.status + " " + JSON.stringify(answer.detail ?? answer);
    return;
  }
  result.textContent = "Run " + answer.dag_run_id + " created.";
  result.dataset.runId = answer.dag_run_id;
  (window.top || window).location.href = base + "/dags/sr_restore/runs/" + encodeURIComponent(answer.dag_run_id);
});
"""
