"""Alembic environment: migrations run on the connection the service hands over (see db.migrate)."""

from alembic import context

from lineage_audit.service.db import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` on the command line: an engine from the configured URL
    from lineage_audit.service.db import make_engine

    engine = make_engine(context.config.get_main_option("sqlalchemy.url"))
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
