"""What Swift's JSON listings promise, as JSON Schema: the listing routes' ``response=``, published in the
OpenAPI description and checked by the fuzzer against every JSON success.

The facts are Swift's API reference (show account details and list containers; show container details and
list objects, ``format=json``): each entry of an account's listing is a container with its ``name``,
``count``, ``bytes`` and ``last_modified``; each of a container's an object with its ``name``, ``hash``,
``bytes``, ``content_type`` and ``last_modified`` (a symlink's ``symlink_path`` and, for a static one,
``symlink_etag`` and ``symlink_bytes``; with ``versions`` each version's ``version_id`` and ``is_latest``);
with a ``delimiter`` a common prefix is a ``subdir`` entry.  Only the JSON format is declared: a plain-text
or XML listing (and an empty plain one, 204) is another media type, which the check leaves alone.
"""

from __future__ import annotations

from onestack.http.shapes import BOOLEAN, INTEGER, STRING, array, either, obj

_SUBDIR = obj({"subdir": STRING})
_CONTAINER = obj({"name": STRING, "count": INTEGER, "bytes": INTEGER, "last_modified": STRING})
_OBJECT = obj({"name": STRING, "hash": STRING, "bytes": INTEGER, "content_type": STRING, "last_modified": STRING},
              {"symlink_path": STRING, "symlink_etag": STRING, "symlink_bytes": INTEGER, "version_id": STRING,
               "is_latest": BOOLEAN})
ACCOUNT_LISTING = array(either(_CONTAINER, _SUBDIR))
CONTAINER_LISTING = array(either(_OBJECT, _SUBDIR))
