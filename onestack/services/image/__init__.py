"""Image: Glance's v2 API — images and their data (uploaded, staged, imported from the web), sharing with
members, tasks, and metadata definitions; the compute service boots from and snapshots into it."""
