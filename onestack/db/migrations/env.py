from alembic import context

from onestack.db.base import Base

# Base.metadata holds the tables of the services the caller imported (``onestack.registry.MODELS``);
# the migrations themselves are written out and do not read it.
engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=engine.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
