"""The "StarRocks backups" page: an Airflow 3 plugin (``plugin.SrBackupsPlugin``, registered through the
``airflow.plugins`` entry point) whose FastAPI app the API server mounts at ``/sr-backups``. It reads the same
catalog as the CLI (``sr_airflow.reporting``) and shows it to logged-in users who may read DAGs.

``settings`` (which repositories, the RPO target), ``timeline`` (the SVG chart), ``page`` (the HTML) and ``app``
(routes and authorisation) each do one job; importing this package loads nothing heavy.
"""
