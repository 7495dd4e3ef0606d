"""The network data plane: what the agent reads from the network database to converge the kernel."""
