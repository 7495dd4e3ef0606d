"""The orchestration engine (``engine.Engine``): converges every stack in progress to its definition."""
