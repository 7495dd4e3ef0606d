"""Converging the real world to what compute's rows ask for: each instance's guest on its host (created,
powered, resized, snapshotted, moved, deleted) and the hosts' own records against what runs on them."""
