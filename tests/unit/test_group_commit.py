"""Group commit on a real SQLite file: concurrent writes share transactions, each caller gets its own
result or error, and a failed write leaves no row while the others of its batch are kept."""

import threading

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, event, insert, select, update

from onestack.db.engine import Database
from onestack.db.group import GroupCommit

rows = Table("rows", MetaData(), Column("id", Integer, primary_key=True), Column("name", String(20), unique=True))
counters = Table("counters", rows.metadata, Column("name", String(20), primary_key=True), Column("count", Integer),
                 Column("total", Integer))
ADD = update(counters).where(counters.c.name == bindparam("key")).values(
    count=counters.c.count + bindparam("objects"), total=counters.c.total + bindparam("size"))


@pytest.fixture
def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'group.db'}")
    rows.metadata.create_all(database.engine)
    yield database
    database.dispose()


@pytest.mark.parametrize("most", [64, 3])
def test_concurrent_writes_share_commits_and_each_gets_its_own_outcome(db, most):
    """(``most`` 3: batches smaller than the writes waiting, so leaders' own writes come in later batches.)"""
    commits = []
    event.listen(db.engine, "commit", lambda conn: commits.append(1))
    group = GroupCommit(db, most=most)
    start = threading.Barrier(16)
    outcomes: dict[int, object] = {}

    def writer(n: int) -> None:
        start.wait()
        for i in range(20):
            name = "taken" if (n, i) == (3, 5) else f"w{n}-{i}"

            def work(session, name=name):
                session.connection().execute(insert(rows).values(name=name))
                if name == "w7-7":
                    raise ValueError("refused by its own writer")
                return name
            try:
                outcomes[(n, i)] = group.run(work)
            except Exception as exc:  # noqa: BLE001 - the outcome is what is checked
                outcomes[(n, i)] = exc

    with db.write() as session:
        session.connection().execute(insert(rows).values(name="taken"))
    commits.clear()
    threads = [threading.Thread(target=writer, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with db.read() as session:
        stored = set(session.scalars(select(rows.c.name)))
    assert "w7-7" not in stored and isinstance(outcomes[(7, 7)], ValueError)
    assert "IntegrityError" in type(outcomes[(3, 5)]).__name__  # the unique name: that write alone failed
    expected = {f"w{n}-{i}" for n in range(16) for i in range(20)} - {"w7-7", "w3-5"}
    assert stored == expected | {"taken"}
    assert all(outcomes[(n, i)] == f"w{n}-{i}" for n in range(16) for i in range(20) if f"w{n}-{i}" in expected)
    assert len(commits) < len(expected)  # writes were grouped: fewer transactions than writes


def test_a_lone_write_commits_at_once_and_errors_reach_their_caller(db):
    group = GroupCommit(db)
    assert group.run(lambda session: session.connection().execute(insert(rows).values(name="one")).rowcount) == 1
    with pytest.raises(KeyError):
        group.run(lambda session: {}["missing"])
    with db.read() as session:
        assert list(session.scalars(select(rows.c.name))) == ["one"]


@pytest.mark.parametrize("most", [64, 3])
def test_added_counters_are_summed_per_row_and_a_failed_write_adds_nothing(db, most):
    """Each write inserts a row and adds to two counters; every tenth fails after adding. The counters end
    equal to what the kept rows say, and they were updated fewer times than there were writes."""
    updates = []
    event.listen(db.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *args: updates.append(1) if statement.startswith("UPDATE") else None)
    with db.write() as session:
        session.connection().execute(insert(counters), [{"name": "a", "count": 0, "total": 0},
                                                        {"name": "b", "count": 0, "total": 0}])
    group = GroupCommit(db, most=most)
    start = threading.Barrier(8)

    def writer(n: int) -> None:
        start.wait()
        for i in range(30):
            def work(session, n=n, i=i):
                session.connection().execute(insert(rows).values(name=f"w{n}-{i}"))
                group.add(session, ADD, {"key": "a" if n % 2 else "b"}, {"objects": 1, "size": i})
                if i % 10 == 9:
                    raise ValueError("refused after adding")
            try:
                group.run(work)
            except ValueError:
                pass

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with db.read() as session:
        stored = set(session.scalars(select(rows.c.name)))
        found = {r.name: (r.count, r.total) for r in session.execute(select(counters))}
    kept = [(n, i) for n in range(8) for i in range(30) if i % 10 != 9]
    assert stored == {f"w{n}-{i}" for n, i in kept}
    for key, odd in (("a", 1), ("b", 0)):
        mine = [i for n, i in kept if n % 2 == odd]
        assert found[key] == (len(mine), sum(mine))
    assert len(updates) < len(kept)  # summed: fewer updates than writes that added


def test_added_counters_of_a_lone_write_are_written_before_its_commit(db):
    with db.write() as session:
        session.connection().execute(insert(counters).values(name="a", count=0, total=0))
    group = GroupCommit(db)
    group.run(lambda session: group.add(session, ADD, {"key": "a"}, {"objects": 2, "size": 5}))
    with db.read() as session:
        assert session.execute(select(counters.c.count, counters.c.total)).one() == (2, 5)


def test_what_a_write_adds_to_the_session_is_written(db):
    """A write may add ORM objects without flushing them: its batch writes them before the next write."""
    from sqlalchemy.orm import registry

    mapper = registry()

    class Row:
        pass

    mapper.map_imperatively(Row, rows)
    group = GroupCommit(db)

    def work(session, name):
        row = Row()
        row.name = name
        session.add(row)
        return name

    start = threading.Barrier(6)

    def writer(n):
        start.wait()
        for i in range(10):
            group.run(lambda session, n=n, i=i: work(session, f"o{n}-{i}"))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with db.read() as session:
        assert set(session.scalars(select(rows.c.name))) == {f"o{n}-{i}" for n in range(6) for i in range(10)}
