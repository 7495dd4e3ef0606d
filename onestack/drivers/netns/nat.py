"""A router's NAT: one nftables table inside its ``qrouter-`` namespace, replaced atomically.

The table lives in the router's own namespace, so it is that router's (and that cloud's) alone, and
goes with the namespace.  Replacing it in one ``nft -f`` transaction keeps conntrack state: flows
already translated carry on.
"""

from __future__ import annotations

import hashlib
import subprocess

from onestack.drivers.netns.ip import NetnsError
from onestack.drivers.netns.plan import Router

TABLE = "onestack-nat"


def render(router: Router) -> str:
    """The ``nft -f`` input replacing the table, its comment the digest of its chains."""
    return _table(_chains(router))


def _chains(router: Router) -> str:
    pre, out, post = [], [], []
    if router.gateway is not None:
        device = router.gateway.inner
        for fip in router.floating_ips:
            pre.append(f"ip daddr {fip.floating} dnat to {fip.fixed}")
            out.append(f"ip daddr {fip.floating} dnat to {fip.fixed}")
            post.append(f'oifname "{device}" ip saddr {fip.fixed} snat to {fip.floating}')
        for fwd in router.port_forwards:
            rule = (f"ip daddr {fwd.floating} {fwd.protocol} dport {fwd.external_port} "
                    f"dnat to {fwd.internal}:{fwd.internal_port}")
            pre.append(rule)
            out.append(rule)
        own = [a.split("/")[0] for a in router.gateway.addresses if ":" not in a]  # IPv6 is never translated
        if router.snat and own:
            post.append(f'oifname "{device}" snat to {own[0]}')

    def chain(name: str, hook: str, priority: int, rules: list[str]) -> str:
        body = "".join(f"    {r}\n" for r in rules)
        return f"  chain {name} {{\n    type nat hook {hook} priority {priority}; policy accept;\n{body}  }}\n"

    return (chain("prerouting", "prerouting", -100, pre) + chain("output", "output", -100, out)
            + chain("postrouting", "postrouting", 100, post))


def _digest(chains: str) -> str:
    return hashlib.sha256(chains.encode()).hexdigest()[:16]


def _table(chains: str) -> str:
    return (f"table ip {TABLE}\ndelete table ip {TABLE}\ntable ip {TABLE} {{\n"
            f"  comment \"{_digest(chains)}\"\n{chains}}}\n")


def ensure(router: Router) -> None:
    """The table as ``router`` wants it; left alone when its comment says it already is."""
    chains = _chains(router)
    current = subprocess.run(["ip", "netns", "exec", router.namespace, "nft", "list", "table", "ip", TABLE],
                             capture_output=True, text=True)
    if current.returncode == 0 and f'comment "{_digest(chains)}"' in current.stdout:
        return
    done = subprocess.run(["ip", "netns", "exec", router.namespace, "nft", "-f", "-"], input=_table(chains),
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise NetnsError(f"nft in {router.namespace}: {done.stderr.strip()}")
