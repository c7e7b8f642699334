"""The served web app: the report pages and a read-only JSON/CSV API over a finished run."""
