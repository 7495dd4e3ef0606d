"""Placement: resource providers, their inventories, traits and aggregates, and the allocations consumers
hold against them; the compute scheduler asks it for candidates and claims through it."""
