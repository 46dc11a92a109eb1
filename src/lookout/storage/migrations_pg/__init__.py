"""Schema migrations of the PostGIS store (``NNNN_name.sql``, applied in order).

Read with :func:`lookout.storage.migrations.load_migrations`; applied by
:func:`lookout.storage.postgis_sql.migrate`, which records each one in ``schema_version``.
"""
