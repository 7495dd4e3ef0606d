"""Volume: block-storage under /volume."""
