"""The host link: one process's compute drivers, reached from another process over signed HTTP."""
