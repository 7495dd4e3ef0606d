"""The Volume service's tables: desired spec, observed status, generation and fault of each resource."""
