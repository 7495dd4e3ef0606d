"""Compute (Nova's API): servers and their lifecycle on the hosts this cloud runs, flavors, keypairs, quotas,
host aggregates, remote consoles and the metadata service guests read."""
