"""Kernel networking primitives for the network data plane: namespaces, bridges, veths, VXLAN, taps,
dnsmasq and router NAT.  Every object made here carries its cloud's mark (``owner``) so that cleanup
touches only that cloud's objects, however many clouds share the machine."""
