"""A decompression bomb given to Swift's extract-archive: the few kilobytes sent inflate to far more than the
container may hold, and the quota stops them as they inflate; nothing of them is kept."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

INFLATED = 64 << 20  # what the bomb inflates to
QUOTA = 1 << 20


def gzip_bomb() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name in ("zeros-1", "zeros-2"):
            info = tarfile.TarInfo(name)
            info.size = INFLATED
            tar.addfile(info, io.BytesIO(bytes(INFLATED)))
        small = tarfile.TarInfo("small")
        small.size = 5
        tar.addfile(small, io.BytesIO(b"small"))
    return out.getvalue()


def stored(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def test_a_decompression_bomb_is_stopped_by_the_container_quota(cloud, swift):
    before = stored(cloud.data_dir / "objects")
    bomb = gzip_bomb()
    assert len(bomb) * 500 < 2 * INFLATED  # a real bomb: what inflates is hundreds of times what is sent
    c = swift.container(**{"X-Container-Meta-Quota-Bytes": str(QUOTA)})
    resp = swift.http.put(f"/{c}", params={"extract-archive": "tar.gz"}, content=bomb,
                          headers={"Accept": "application/json"}, timeout=120)
    report = resp.json()
    assert resp.status_code == 200 and report["Number Files Created"] == 1, report
    assert sorted(name for name, _ in report["Errors"]) == ["zeros-1", "zeros-2"]
    assert all(status.startswith("413") for _, status in report["Errors"])
    head = swift.http.head(f"/{c}")
    assert head.headers["X-Container-Object-Count"] == "1" and head.headers["X-Container-Bytes-Used"] == "5"
    assert swift.http.get(f"/{c}").text.split() == ["small"]
    assert stored(cloud.data_dir / "objects") - before < QUOTA  # no inflated data left on disk
