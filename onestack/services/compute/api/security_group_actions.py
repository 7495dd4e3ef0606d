"""The server actions the proxy APIs add to POST /servers/{id}/action, for ``api/actions.py`` to look up
by name: ``EXTRA_ACTIONS[name](call, args) -> Reply``.  Each handler checks its own policy, microversion
and arguments; security groups and floating IPs both live here so that the actions module needs one hook."""

from onestack.services.compute.api import floating_ips, security_groups

EXTRA_ACTIONS = {
    "addSecurityGroup": security_groups.add_security_group,
    "removeSecurityGroup": security_groups.remove_security_group,
    "addFloatingIp": floating_ips.add_floating_ip,
    "removeFloatingIp": floating_ips.remove_floating_ip,
}
