from onestack.db.engine import normalise_url


def test_plain_postgresql_urls_use_the_shipped_driver():
    assert normalise_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalise_url("postgres://h/db") == "postgresql+psycopg://h/db"
    assert normalise_url("postgresql+psycopg://h/db") == "postgresql+psycopg://h/db"
    assert normalise_url("sqlite:////x.db") == "sqlite:////x.db"
