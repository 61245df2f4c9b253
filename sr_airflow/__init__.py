"""sr_airflow: StarRocks backup, restore and migration for Apache Airflow."""
