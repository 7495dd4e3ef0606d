#!/usr/bin/env bash
# A throwaway one-node Ceph cluster under DIR, for tests and local trials: one monitor on 127.0.0.1 (msgr2,
# a free port), one manager, one BlueStore OSD on a sparse file (no loop device), pools of size 1 for
# onestack (volumes, images, vms; objects for the object store) and a client.onestack key with the rbd
# profile on the first three and read-write on objects.  Daemons are plain
# processes (no systemd); each has its own keyring (one [global] keyring for all breaks the mgr's and OSD's
# authentication).  Waits for HEALTH_OK, then prints what a client needs, one KEY=value a line:
#   CEPH_CONF=DIR/ceph.conf  CEPH_ID=onestack  CEPH_KEYRING=DIR/ceph.client.onestack.keyring
#   CEPH_POOLS=volumes,images,vms,objects
# scripts/ceph-down.sh DIR stops every daemon and removes DIR.  Packages: `make ceph-packages`.
#
# usage: scripts/ceph-up.sh DIR [OSD_SIZE_GIB]
set -euo pipefail
DIR=${1:?usage: ceph-up.sh DIR [OSD_SIZE_GIB]}
SIZE_GIB=${2:-4}
TIMEOUT=${CEPH_UP_TIMEOUT:-90}
for tool in ceph ceph-mon ceph-osd ceph-mgr monmaptool ceph-authtool rbd; do
    command -v "$tool" >/dev/null || { echo "ceph-up: $tool is not installed (make ceph-packages)" >&2; exit 2; }
done
if [ -e "$DIR/ceph.conf" ]; then
    echo "ceph-up: $DIR already holds a cluster (scripts/ceph-down.sh $DIR first)" >&2
    exit 1
fi
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
mkdir -p "$DIR/run" "$DIR/log" "$DIR/mon-a" "$DIR/mgr-x" "$DIR/osd-0"
started=$(date +%s.%N)
# Anything left half-made is torn down, so a failed start leaves no process behind.
trap 'status=$?; [ $status -eq 0 ] || "$(dirname "$0")/ceph-down.sh" "$DIR" >/dev/null 2>&1 || true' EXIT

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
FSID=$(cat /proc/sys/kernel/random/uuid)
cat > "$DIR/ceph.conf" <<EOF
[global]
fsid = $FSID
mon host = v2:127.0.0.1:$PORT
mon initial members = a
public network = 127.0.0.0/8
ms bind msgr1 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
auth allow insecure global id reclaim = false
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
# a throwaway cluster shares a disk that may be fuller than a monitor likes
mon data avail warn = 2
mon data avail crit = 1
run dir = $DIR/run
admin socket = $DIR/run/\$name.asok
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
mon data = $DIR/mon-\$id
mgr data = $DIR/mgr-\$id
osd data = $DIR/osd-\$id
osd objectstore = bluestore
bluestore block size = $((SIZE_GIB * 1024 * 1024 * 1024))
osd memory target = 939524096
[mon]
keyring = $DIR/mon-\$id/keyring
[mgr]
keyring = $DIR/mgr-\$id/keyring
[osd]
keyring = $DIR/osd-\$id/keyring
[client]
keyring = $DIR/\$cluster.\$name.keyring
log file = /dev/null
admin socket =
EOF
CONF=(-c "$DIR/ceph.conf")

ceph-authtool --create-keyring "$DIR/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
ceph-authtool --create-keyring "$DIR/ceph.client.admin.keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
ceph-authtool "$DIR/mon.keyring" --import-keyring "$DIR/ceph.client.admin.keyring" >/dev/null
monmaptool --create --fsid "$FSID" --addv a "[v2:127.0.0.1:$PORT]" "$DIR/monmap" >/dev/null
ceph-mon "${CONF[@]}" --mkfs -i a --monmap "$DIR/monmap" --keyring "$DIR/mon.keyring"
cp "$DIR/mon.keyring" "$DIR/mon-a/keyring"
ceph-mon "${CONF[@]}" -i a

# The OSD's BlueStore mkfs and first start take most of the start-up: the manager, the pools and the client's
# key (monitor work only) are made meanwhile, each pool in parallel; rbd pool init waits for the OSD.
OSD_UUID=$(cat /proc/sys/kernel/random/uuid)
OSD_ID=$(ceph "${CONF[@]}" osd new "$OSD_UUID")
[ "$OSD_ID" = 0 ] || { echo "ceph-up: unexpected osd id $OSD_ID" >&2; exit 1; }
ceph "${CONF[@]}" auth get-or-create osd.0 mon 'allow profile osd' mgr 'allow profile osd' osd 'allow *' \
    -o "$DIR/osd-0/keyring"
( ceph-osd "${CONF[@]}" -i 0 --mkfs --osd-uuid "$OSD_UUID" >"$DIR/log/osd-mkfs.log" 2>&1 &&
  ceph-osd "${CONF[@]}" -i 0 2>>"$DIR/log/osd-start.log" ) &
osd=$!

ceph "${CONF[@]}" auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' \
    -o "$DIR/mgr-x/keyring"
ceph-mgr "${CONF[@]}" -i x

pids=()
for pool in volumes images vms objects; do
    ceph "${CONF[@]}" osd pool create "$pool" 8 8 >/dev/null 2>&1 &
    pids+=($!)
done
# The client's key for the pools (objects: plain RADOS objects for ceph.object_store)
ceph "${CONF[@]}" auth get-or-create client.onestack mon 'profile rbd' mgr 'profile rbd' \
    osd 'profile rbd pool=volumes, profile rbd pool=images, profile rbd pool=vms, allow rwx pool=objects' \
    -o "$DIR/ceph.client.onestack.keyring"
for pid in "${pids[@]}"; do wait "$pid"; done
# tagged so the cluster knows the objects pool's use
ceph "${CONF[@]}" osd pool application enable objects onestack >/dev/null
wait "$osd" || { echo "ceph-up: the OSD did not start: $(tail -3 "$DIR/log/osd-mkfs.log")" >&2; exit 1; }
pids=()
for pool in volumes images vms; do
    rbd "${CONF[@]}" pool init "$pool" &
    pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

deadline=$(( $(date +%s) + TIMEOUT ))
until [ "$(ceph "${CONF[@]}" health 2>/dev/null)" = HEALTH_OK ]; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
        echo "ceph-up: no HEALTH_OK within ${TIMEOUT}s: $(ceph "${CONF[@]}" health detail 2>&1 | head -5)" >&2
        exit 1
    fi
    sleep 0.5
done
echo "CEPH_CONF=$DIR/ceph.conf"
echo "CEPH_ID=onestack"
echo "CEPH_KEYRING=$DIR/ceph.client.onestack.keyring"
echo "CEPH_POOLS=volumes,images,vms,objects"
echo "CEPH_UP_SECONDS=$(python3 -c "import time; print(round(time.time() - $started, 1))")"
