from alembic.script import ScriptDirectory

from onestack.db.engine import Database
from onestack.db.migrate import HEAD, alembic_config


def test_head_constant_matches_alembic(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    assert ScriptDirectory.from_config(alembic_config(db)).get_current_head() == HEAD
    db.dispose()


def test_models_and_migrations_agree(tmp_path):
    """A model change without its migration would make autogenerate find differences."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from onestack import registry
    from onestack.db.base import Base
    from onestack.db.migrate import upgrade

    assert registry.MODELS
    db = Database(f"sqlite:///{tmp_path / 'y.db'}")
    upgrade(db)
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    db.dispose()
