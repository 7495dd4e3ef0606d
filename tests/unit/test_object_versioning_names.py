"""Version ids and the names versions are kept under: newest first, one object's versions together."""

import pytest

from onestack.http import errors
from onestack.services.object.service import versioning


def test_ids_normalize_and_names_sort_newest_first():
    assert versioning.normal("1596485421.7") == "1596485421.70000"
    assert versioning.normal("42") == "0000000042.00000"
    assert versioning.normal("null") == "null"
    for bad in ("-1", "1.2.3", "abc", "12345678901", "1.123456", ""):
        with pytest.raises(errors.BadRequest):
            versioning.normal(bad)
    ids = ["1596485421.70000", "1596485421.70001", "1700000000.00000"]
    names = [versioning.archived_name("a/b", i) for i in ids]
    assert sorted(names) == names[::-1]  # the newest first
    assert [versioning.parse_archived(n) for n in names] == [("a/b", i) for i in ids]
    # another object's versions never fall among these (a name ends at the separator, below any character)
    assert not any(names[-1] < n < names[0] for n in (versioning.archived_name("a/b0", ids[0]),
                                                      versioning.archived_name("a/", ids[0])))
    with pytest.raises(errors.BadRequest):
        versioning.archived_name("x" * 1010, ids[0])
