"""Orchestration: orchestration under /orchestration."""
