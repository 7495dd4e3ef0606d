"""Object Storage through rclone (Debian's package): its `swift` backend authenticating to Keystone v3 from the
OS_* environment, and its `s3` backend with an EC2 credential made by `openstack ec2 credentials create`.
A directory tree goes up with `rclone sync`, is verified with `rclone check`, changed locally and synced
again, then synced down into a new directory and compared byte for byte."""

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.api.helpers import member_of_new_project
from tests.clients.test_object_cli import env_for, md5s
from tests.openstackcli import openstack_cli

pytestmark = pytest.mark.skipif(shutil.which("rclone") is None, reason="rclone is not installed (make install)")


def rclone(env: dict, *args: str) -> str:
    done = subprocess.run(["rclone", "--config", "/dev/null", "--low-level-retries", "1", "--retries", "1", *args],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"rclone {' '.join(args)}: {done.stdout}{done.stderr}"
    return done.stdout


def make_tree(root: Path) -> None:
    files = {"a.txt": b"alpha\n", "empty": b"", "sub/b.bin": os.urandom(70_000), "sub/deeper/c.bin": os.urandom(5),
             "sub/deeper/ü space.txt": b"unicode name", "big.bin": os.urandom(3 << 20)}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)


def test_rclone_swift_backend_syncs_a_tree_both_ways(cloud, admin, tmp_path):
    project, user, _ = member_of_new_project(cloud, admin)
    env = env_for(cloud, project, user)
    # A remote named "os" from the environment: rclone's swift backend reads OS_AUTH_URL, OS_USERNAME... itself.
    env.update(RCLONE_CONFIG_OS_TYPE="swift", RCLONE_CONFIG_OS_ENV_AUTH="true")
    tree = tmp_path / "tree"
    make_tree(tree)
    rclone(env, "sync", str(tree), "os:backup")
    rclone(env, "check", str(tree), "os:backup")  # sizes and MD5s (Swift's ETag) of every file match
    listed = json.loads(rclone(env, "lsjson", "-R", "--files-only", "os:backup"))
    assert sorted(e["Path"] for e in listed) == sorted(md5s(tree))
    # change the tree: one file rewritten, one removed, one added; sync mirrors exactly that
    (tree / "a.txt").write_bytes(b"alpha, second edition\n")
    (tree / "sub/b.bin").unlink()
    (tree / "sub/new.txt").write_bytes(b"new")
    rclone(env, "sync", str(tree), "os:backup")
    rclone(env, "check", str(tree), "os:backup")
    names = rclone(env, "lsf", "-R", "--files-only", "os:backup").split("\n")
    assert "sub/b.bin" not in names and "sub/new.txt" in names
    down = tmp_path / "down"
    rclone(env, "sync", "os:backup", str(down))
    assert md5s(down) == md5s(tree)
    # the account's counters agree with what rclone put there
    about = json.loads(rclone(env, "size", "--json", "os:backup"))
    assert (about["count"], about["bytes"]) == (len(md5s(tree)),
                                                sum(p.stat().st_size for p in tree.rglob("*") if p.is_file()))
    rclone(env, "purge", "os:backup")
    assert "backup" not in rclone(env, "lsd", "os:").split()


def test_rclone_s3_backend_with_an_ec2_credential(cloud, admin, tmp_path):
    project, user, _ = member_of_new_project(cloud, admin)
    env = env_for(cloud, project, user)
    env.pop("AWS_CA_BUNDLE", None)  # rclone's S3 client cannot load a CA bundle into its transport (plain http here)
    made = openstack_cli(["ec2", "credentials", "create", "-f", "json"], env)
    assert made.returncode == 0, made.stderr
    credential = json.loads(made.stdout)
    env.update(RCLONE_CONFIG_S3_TYPE="s3", RCLONE_CONFIG_S3_PROVIDER="Other",
               RCLONE_CONFIG_S3_ACCESS_KEY_ID=credential["access"],
               RCLONE_CONFIG_S3_SECRET_ACCESS_KEY=credential["secret"],
               RCLONE_CONFIG_S3_ENDPOINT=f"{cloud.url}/s3", RCLONE_CONFIG_S3_REGION="RegionOne",
               RCLONE_CONFIG_S3_FORCE_PATH_STYLE="true")
    tree = tmp_path / "tree"
    make_tree(tree)
    rclone(env, "mkdir", "s3:artifacts")
    # 3 MiB over a 1 MiB cutoff: big.bin goes up as an S3 multipart upload
    rclone(env, "copy", "--s3-upload-cutoff", "1M", "--s3-chunk-size", "5M", str(tree), "s3:artifacts/build-1")
    rclone(env, "check", str(tree), "s3:artifacts/build-1")
    down = tmp_path / "down"
    rclone(env, "copy", "s3:artifacts/build-1", str(down))
    assert md5s(down) == md5s(tree)
    # the bucket is the project's Swift container: the Swift API sees the same objects
    env.update(RCLONE_CONFIG_OS_TYPE="swift", RCLONE_CONFIG_OS_ENV_AUTH="true")
    rclone(env, "check", str(tree), "os:artifacts/build-1", "--size-only")
    # big.bin went up in parts, kept (as s3api keeps them) in the bucket's segments container
    parts = rclone(env, "lsf", "-R", "--files-only", "os:artifacts+segments").split()
    assert len(parts) == 1 and parts[0].startswith("build-1/big.bin/") and parts[0].endswith("/00001")
    rclone(env, "purge", "s3:artifacts")
    assert "artifacts" not in rclone(env, "lsd", "s3:").split()
