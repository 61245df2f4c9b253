"""What the catalog says, for people: rows for the CLI (``sr_airflow/cli.py``), the backups page and the metrics.

``catalog_view`` turns a loaded ``Catalog`` into plain dicts (pure Python, no Airflow, no storage);
``open_catalog`` loads a repository's catalog from its location with an Airflow storage connection.
Nothing is imported here, so ``sr-airflow --help`` stays fast.
"""
