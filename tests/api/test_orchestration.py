"""Orchestration over HTTP against the real cloud."""

import httpx


def test_root_answers_version_discovery(cloud):
    resp = httpx.get(f"{cloud.url}/orchestration/")
    assert resp.status_code == 300
    assert resp.json()["versions"][0]["links"][0]["href"] == f"{cloud.url}/orchestration/v1/"
