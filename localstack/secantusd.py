"""SecantusDB, the local MongoDB-wire server, started with one planner fix.

Run with SecantusDB's own interpreter (``.venvs/secantus``), as its ``secantusd-py`` would be:
``localstack/stack.sh`` starts the stack's server with it, and ``tests/support/secantus.py``
the unit tests' in-memory one.

The fix: SecantusDB's ``findAndModify`` writes with the filter ``{_id: <the matched id>,
$and: [<the query>]}`` (it re-asserts the query against concurrent writers), and its
index picker gives up on any filter with a ``$`` key, so every ``find_one_and_update`` --
the job's status changes and progress counters, once or twice per page -- scanned the whole
``original_files`` collection: 0.6 ms with 10 jobs, 8.7 ms with 1,000, 20 ms on a dev stack
with 1,190. MongoDB and DocumentDB look the ``_id`` up. Here the ``_id`` clause alone picks the
candidates when the whole filter cannot; SecantusDB's write and read paths test every
candidate against the whole filter afterwards (``matches``), as they already do when one
clause of a filter rides an index, so the answers are the same.
"""

from __future__ import annotations

import sys
from typing import Any

from secantus.cli import main
from secantus.storage import Storage

_whole_filter_lookup = Storage._try_index_id_keys


def _id_first_lookup(
    self: Storage, db: str, coll: str, filter: dict[str, Any], *, collation: Any = None
) -> list[bytes] | None:
    found = _whole_filter_lookup(self, db, coll, filter, collation=collation)
    if found is None and isinstance(filter, dict) and "_id" in filter and len(filter) > 1:
        return _whole_filter_lookup(self, db, coll, {"_id": filter["_id"]}, collation=collation)
    return found


Storage._try_index_id_keys = _id_first_lookup  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
