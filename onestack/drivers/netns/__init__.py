"""Kernel networking for the network data plane: namespaces, bridges, taps and packet filtering.
Everything made here is owned by one cloud (its scope) and cleanup touches only that cloud's objects."""
