"""Block Storage: Cinder's v3 API under /volume; volumes and snapshots are qcow2 files in the data dir."""
