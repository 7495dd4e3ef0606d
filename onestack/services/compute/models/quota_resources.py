"""Which quota resources exist, their defaults, and which of them each microversion shows."""

from __future__ import annotations

from onestack.http.microversion import Version, at_least

UNLIMITED = -1
MAX_LIMIT = 0x7FFFFFFF
DEFAULT_CLASS = "default"

# Nova's [quota] defaults, every resource any microversion shows.
DEFAULTS: dict[str, int] = {
    "instances": 10, "cores": 20, "ram": 51200, "metadata_items": 128, "key_pairs": 100,
    "server_groups": 10, "server_group_members": 10,
    "injected_files": 5, "injected_file_content_bytes": 10240, "injected_file_path_bytes": 255,
    "floating_ips": 10, "fixed_ips": UNLIMITED, "security_groups": 10, "security_group_rules": 20,
}
# Proxies to the network service, gone from 2.36 (quota sets, limits) and 2.50 (quota classes).
NETWORK = ("fixed_ips", "floating_ips", "security_groups", "security_group_rules")
# File injection (personality), gone from 2.57.
INJECTED = ("injected_files", "injected_file_content_bytes", "injected_file_path_bytes")
SERVER_GROUPS = ("server_groups", "server_group_members")


def quota_set_resources(version: Version | None) -> tuple[str, ...]:
    """The resources ``os-quota-sets`` shows and accepts at ``version``."""
    hidden = set()
    if at_least(version, "2.36"):
        hidden.update(NETWORK)
    if at_least(version, "2.57"):
        hidden.update(INJECTED)
    return tuple(r for r in DEFAULTS if r not in hidden)


def quota_class_resources(version: Version | None) -> tuple[str, ...]:
    """``os-quota-class-sets`` lagged behind: server groups appear and network proxies go only at 2.50."""
    hidden = set(NETWORK) if at_least(version, "2.50") else set(SERVER_GROUPS)
    if at_least(version, "2.57"):
        hidden.update(INJECTED)
    return tuple(r for r in DEFAULTS if r not in hidden)
