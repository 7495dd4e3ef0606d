"""Network (Neutron's API v2.0): networks, subnets, ports, security groups, routers, floating IPs and
their shares and quotas, made real in the kernel of each host by the data plane."""
