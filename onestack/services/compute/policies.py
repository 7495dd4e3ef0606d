"""Nova's default policies (secure RBAC): project members act on their servers, readers read, admins
do everything (and alone see hosts, other projects' servers and the extended attributes)."""

from onestack.http.policy import ADMIN, PROJECT_MEMBER, PROJECT_READER, Rule

MEMBER = ADMIN | PROJECT_MEMBER
READER = ADMIN | PROJECT_READER

RULES: dict[str, Rule] = {
    "servers:create": PROJECT_MEMBER | ADMIN,
    "servers:show": READER,
    "servers:index": READER,
    "servers:update": MEMBER,
    "servers:delete": MEMBER,
    "servers:start": MEMBER,
    "servers:stop": MEMBER,
    "servers:reboot": MEMBER,
    "pause_server": MEMBER,
    "suspend_server": MEMBER,
    "lock": MEMBER,
    "unlock": MEMBER,
    "server-metadata": MEMBER,
    "server-metadata:read": READER,
    "instance-actions": READER,
    "server-groups:create": MEMBER,
    "server-groups:read": READER,
    "server-groups:delete": MEMBER,
    "os-availability-zone": READER,
    "console-output": MEMBER,
    "ips": READER,
    "os-services": ADMIN,
    "os-hypervisors": ADMIN,
}
