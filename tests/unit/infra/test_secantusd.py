"""localstack/secantusd.py: SecantusDB's findAndModify finds a document by its ``_id``
without scanning the collection, with the same answers.

SecantusDB runs on its own interpreter (.venvs/secantus, made by `make setup`), so the check
runs there, in a subprocess, on an in-memory Storage of 300 documents, counting the
collection scans (``Storage._scan_docs``) of the write that ``find_one_and_update`` sends:
``{_id: X, $and: [<query>]}``. Without the fix SecantusDB scans (the check asserts that too:
when a SecantusDB release fixes it, this test says the patch can go).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
SECANTUS_PYTHON = ROOT / ".venvs" / "secantus" / "bin" / "python"

CHECK = """
import json, sys
sys.path.insert(0, sys.argv[1])
if sys.argv[2] == "fixed":
    import secantusd  # noqa: F401
from bson import ObjectId
from secantus.storage import Storage

storage = Storage(":memory:")
ids = [ObjectId() for _ in range(300)]
storage.insert("db", "jobs", [{"_id": i, "n": k, "status": "ocr"} for k, i in enumerate(ids)])
scans = []
scan = Storage._scan_docs
def counted_scan(self, *args, **kwargs):
    scans.append(args)
    return scan(self, *args, **kwargs)
Storage._scan_docs = counted_scan
target = ids[150]
raised = storage.update_matching(
    "db", "jobs", {"_id": target, "$and": [{"_id": target}]}, {"$max": {"c": 3}},
    return_post_images=True,
)
refused = storage.update_matching(
    "db", "jobs", {"_id": target, "$and": [{"status": "failed"}]}, {"$set": {"x": 1}}
)
print(json.dumps({
    "scans": len(scans),
    "raised": [raised["matched"], raised["post_images"][0]["n"], raised["post_images"][0]["c"]],
    "refused": refused["matched"],
}))
"""


def _run(variant: str) -> dict[str, object]:
    assert SECANTUS_PYTHON.exists(), "SecantusDB's interpreter is missing: run `make setup`"
    done = subprocess.run(
        [str(SECANTUS_PYTHON), "-c", CHECK, str(ROOT / "localstack"), variant],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_find_and_modify_by_id_looks_the_id_up_with_the_same_answers() -> None:
    fixed, stock = _run("fixed"), _run("stock")
    assert fixed["scans"] == 0
    assert stock["scans"] == 2, "SecantusDB no longer scans: localstack/secantusd.py can go"
    # The matched document, its post-image, and a query that rules it out: the same.
    assert fixed["raised"] == stock["raised"] == [1, 150, 3]
    assert fixed["refused"] == stock["refused"] == 0
