"""Network records: the desired state the data plane converges to.

Every resource carries Neutron's standard attributes (project, name, description, timestamps and a
revision number that SQLAlchemy bumps on each update, which also makes concurrent updates fail
instead of silently overwriting each other).  Tags live in one table keyed by resource id.
"""

from __future__ import annotations

import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from onestack.db.base import Base, UTCDateTime, utcnow


class Standard:
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), default="", index=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    description: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    revision_number: Mapped[int] = mapped_column(BigInteger, default=0)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:  # noqa: N805
        return {"version_id_col": cls.revision_number}


class Tag(Base):
    __tablename__ = "network_tag"

    resource_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tag: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)


class Network(Standard, Base):
    __tablename__ = "network_network"

    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    mtu: Mapped[int] = mapped_column(Integer, default=1500)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    network_type: Mapped[str] = mapped_column(String(16))
    physical_network: Mapped[str | None] = mapped_column(String(64))
    segmentation_id: Mapped[int | None] = mapped_column(Integer)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    external: Mapped[bool] = mapped_column(Boolean, default=False)
    dns_domain: Mapped[str] = mapped_column(String(255), default="")
    availability_zone_hints: Mapped[list] = mapped_column(default=list)

    subnets: Mapped[list[Subnet]] = relationship(back_populates="network", lazy="joined",
                                                 order_by="Subnet.created_at", passive_deletes=True)


class SegmentAllocation(Base):
    """Which segment (VLAN id, VNI) a network holds on which physical network; the key makes two
    networks claiming one segment impossible, whatever the race."""

    __tablename__ = "network_segment"

    network_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    physical_network: Mapped[str] = mapped_column(String(64), primary_key=True)
    segmentation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    network_id: Mapped[str] = mapped_column(ForeignKey("network_network.id", ondelete="CASCADE"), index=True)


class Subnet(Standard, Base):
    __tablename__ = "network_subnet"

    network_id: Mapped[str] = mapped_column(ForeignKey("network_network.id", ondelete="CASCADE"), index=True)
    ip_version: Mapped[int] = mapped_column(Integer)
    cidr: Mapped[str] = mapped_column(String(64))
    gateway_ip: Mapped[str | None] = mapped_column(String(64))
    enable_dhcp: Mapped[bool] = mapped_column(Boolean, default=True)
    dns_nameservers: Mapped[list] = mapped_column(default=list)
    host_routes: Mapped[list] = mapped_column(default=list)
    allocation_pools: Mapped[list] = mapped_column(default=list)
    ipv6_ra_mode: Mapped[str | None] = mapped_column(String(32))
    ipv6_address_mode: Mapped[str | None] = mapped_column(String(32))
    subnetpool_id: Mapped[str | None] = mapped_column(String(36), index=True)
    service_types: Mapped[list] = mapped_column(default=list)
    dns_publish_fixed_ip: Mapped[bool] = mapped_column(Boolean, default=False)

    network: Mapped[Network] = relationship(back_populates="subnets", lazy="raise")


# ``Port.device_owner`` of the ports the cloud makes for itself.
DHCP_OWNER = "network:dhcp"
ROUTER_INTERFACE_OWNER = "network:router_interface"
ROUTER_GATEWAY_OWNER = "network:router_gateway"
FLOATINGIP_OWNER = "network:floatingip"
# Ports deleted only through the resource that made them, never through the port API.
L3_OWNERS = (ROUTER_INTERFACE_OWNER, ROUTER_GATEWAY_OWNER, FLOATINGIP_OWNER,
             "network:router_interface_distributed", "network:ha_router_replicated_interface")


class Port(Standard, Base):
    __tablename__ = "network_port"
    __table_args__ = (UniqueConstraint("network_id", "mac_address", name="uq_network_port_network_mac"),
                      Index("ix_network_port_device", "device_id"))

    network_id: Mapped[str] = mapped_column(ForeignKey("network_network.id", ondelete="CASCADE"), index=True)
    mac_address: Mapped[str] = mapped_column(String(32))
    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")
    device_id: Mapped[str] = mapped_column(String(255), default="")
    device_owner: Mapped[str] = mapped_column(String(255), default="")
    host_id: Mapped[str] = mapped_column(String(255), default="")
    vnic_type: Mapped[str] = mapped_column(String(64), default="normal")
    profile: Mapped[dict] = mapped_column(default=dict)
    allowed_address_pairs: Mapped[list] = mapped_column(default=list)
    extra_dhcp_opts: Mapped[list] = mapped_column(default=list)
    port_security_enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    dns_name: Mapped[str] = mapped_column(String(255), default="")

    fixed_ips: Mapped[list[IPAllocation]] = relationship(lazy="selectin", order_by="IPAllocation.order",
                                                         cascade="all, delete-orphan", passive_deletes=True)
    security_groups: Mapped[list[PortSecurityGroup]] = relationship(lazy="selectin", cascade="all, delete-orphan",
                                                                    passive_deletes=True)


class PortBinding(Base):
    """A port's INACTIVE binding to another host (Neutron's ``binding-extended``): made on a live
    migration's destination before the guest moves, activated at switch-over.  The ACTIVE binding is the
    port's own ``host_id``, ``vnic_type`` and ``profile``, so everything that binds a port (and the data
    plane that wires it) reads one place; activation swaps the two in one transaction."""

    __tablename__ = "network_port_binding"

    port_id: Mapped[str] = mapped_column(ForeignKey("network_port.id", ondelete="CASCADE"), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), primary_key=True, index=True)
    vnic_type: Mapped[str] = mapped_column(String(64), default="normal")
    profile: Mapped[dict] = mapped_column(default=dict)
    created_at: Mapped[datetime.datetime] = mapped_column(UTCDateTime, default=utcnow)


class IPAllocation(Base):
    """One fixed IP of a port.  The primary key (subnet, address) is what keeps two ports created at
    the same moment from getting the same address: the loser's insert fails and it picks again."""

    __tablename__ = "network_ip_allocation"

    subnet_id: Mapped[str] = mapped_column(ForeignKey("network_subnet.id", ondelete="CASCADE"), primary_key=True)
    ip_address: Mapped[str] = mapped_column(String(64), primary_key=True)
    port_id: Mapped[str] = mapped_column(ForeignKey("network_port.id", ondelete="CASCADE"), index=True)
    network_id: Mapped[str] = mapped_column(String(36), index=True)
    order: Mapped[int] = mapped_column(Integer, default=0)


class SecurityGroup(Standard, Base):
    __tablename__ = "network_security_group"

    stateful: Mapped[bool] = mapped_column(Boolean, default=True)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)

    rules: Mapped[list[SecurityGroupRule]] = relationship(
        lazy="selectin", foreign_keys="SecurityGroupRule.security_group_id", order_by="SecurityGroupRule.created_at",
        cascade="all, delete-orphan", passive_deletes=True)


class SecurityGroupRule(Standard, Base):
    __tablename__ = "network_security_group_rule"

    security_group_id: Mapped[str] = mapped_column(ForeignKey("network_security_group.id", ondelete="CASCADE"),
                                                   index=True)
    direction: Mapped[str] = mapped_column(String(16))
    ethertype: Mapped[str] = mapped_column(String(16), default="IPv4")
    protocol: Mapped[str | None] = mapped_column(String(40))
    port_range_min: Mapped[int | None] = mapped_column(Integer)
    port_range_max: Mapped[int | None] = mapped_column(Integer)
    remote_ip_prefix: Mapped[str | None] = mapped_column(String(64))
    remote_group_id: Mapped[str | None] = mapped_column(ForeignKey("network_security_group.id", ondelete="CASCADE"),
                                                        index=True)
    remote_address_group_id: Mapped[str | None] = mapped_column(String(36))


class DefaultSecurityGroup(Base):
    """Each project's ``default`` group; the key makes two racing first requests create only one."""

    __tablename__ = "network_default_security_group"

    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(ForeignKey("network_security_group.id", ondelete="CASCADE"))


class PortSecurityGroup(Base):
    __tablename__ = "network_port_security_group"

    port_id: Mapped[str] = mapped_column(ForeignKey("network_port.id", ondelete="CASCADE"), primary_key=True)
    security_group_id: Mapped[str] = mapped_column(ForeignKey("network_security_group.id"), primary_key=True,
                                                   index=True)


class Router(Standard, Base):
    __tablename__ = "network_router"

    admin_state_up: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    gw_port_id: Mapped[str | None] = mapped_column(ForeignKey("network_port.id"))
    enable_snat: Mapped[bool] = mapped_column(Boolean, default=True)
    routes: Mapped[list] = mapped_column(default=list)
    availability_zone_hints: Mapped[list] = mapped_column(default=list)


class FloatingIP(Standard, Base):
    __tablename__ = "network_floating_ip"
    __table_args__ = (UniqueConstraint("floating_network_id", "floating_ip_address",
                                       name="uq_network_floating_ip_address"),)

    floating_network_id: Mapped[str] = mapped_column(ForeignKey("network_network.id"), index=True)
    floating_ip_address: Mapped[str] = mapped_column(String(64))
    floating_port_id: Mapped[str] = mapped_column(ForeignKey("network_port.id"))
    port_id: Mapped[str | None] = mapped_column(ForeignKey("network_port.id", ondelete="SET NULL"), index=True)
    fixed_ip_address: Mapped[str | None] = mapped_column(String(64))
    router_id: Mapped[str | None] = mapped_column(ForeignKey("network_router.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="DOWN")
    dns_name: Mapped[str] = mapped_column(String(255), default="")
    dns_domain: Mapped[str] = mapped_column(String(255), default="")


class PortForwarding(Base):
    __tablename__ = "network_port_forwarding"
    __table_args__ = (UniqueConstraint("floatingip_id", "external_port", "protocol",
                                       name="uq_network_port_forwarding_external"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    floatingip_id: Mapped[str] = mapped_column(ForeignKey("network_floating_ip.id", ondelete="CASCADE"), index=True)
    internal_port_id: Mapped[str] = mapped_column(ForeignKey("network_port.id", ondelete="CASCADE"), index=True)
    internal_ip_address: Mapped[str] = mapped_column(String(64))
    internal_port: Mapped[int] = mapped_column(Integer)
    external_port: Mapped[int] = mapped_column(Integer)
    protocol: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(String(255), default="")


class AddressScope(Standard, Base):
    __tablename__ = "network_address_scope"

    ip_version: Mapped[int] = mapped_column(Integer)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)


class SubnetPool(Standard, Base):
    __tablename__ = "network_subnet_pool"

    ip_version: Mapped[int] = mapped_column(Integer)
    prefixes: Mapped[list] = mapped_column(default=list)
    default_prefixlen: Mapped[int] = mapped_column(Integer)
    min_prefixlen: Mapped[int] = mapped_column(Integer)
    max_prefixlen: Mapped[int] = mapped_column(Integer)
    shared: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    address_scope_id: Mapped[str | None] = mapped_column(ForeignKey("network_address_scope.id"), index=True)
    default_quota: Mapped[int | None] = mapped_column(Integer)


class RBACPolicy(Base):
    """An explicit share: ``object_type`` ``object_id`` is reachable by ``target_project`` ('*': everyone)."""

    __tablename__ = "network_rbac_policy"
    __table_args__ = (UniqueConstraint("object_type", "object_id", "action", "target_project",
                                       name="uq_network_rbac_policy_grant"),
                      Index("ix_network_rbac_policy_object", "object_type", "object_id"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str] = mapped_column(String(32))
    object_id: Mapped[str] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(32))
    target_project: Mapped[str] = mapped_column(String(64), index=True)


class Quota(Base):
    __tablename__ = "network_quota"

    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    resource: Mapped[str] = mapped_column(String(64), primary_key=True)
    limit: Mapped[int] = mapped_column(Integer)


class QuotaLock(Base):
    """One row per project, locked (``SELECT ... FOR UPDATE``) while a create counts usage, so two
    creates on PostgreSQL cannot both take the last unit of a quota."""

    __tablename__ = "network_quota_lock"

    project_id: Mapped[str] = mapped_column(String(64), primary_key=True)
