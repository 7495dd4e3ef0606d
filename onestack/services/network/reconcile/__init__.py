"""The network data plane of this host: the database's networks, subnets, ports and routers made real
in the kernel (``desired`` computes what should exist, ``agent`` converges the kernel to it)."""
