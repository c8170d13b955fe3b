"""The SSRF guard refuses every address that is not globally reachable (IANA special-purpose
registries), including IPv6 forms that embed an IPv4 address, and allows public ones."""

from __future__ import annotations

import ipaddress

import pytest

from registry.outbound import OutboundError, address_allowed, guarded_get

REFUSED = [
    # IPv4 special-purpose registry (RFC 6890 and later), "globally reachable: false"
    "0.0.0.0", "0.1.2.3",  # "this network"
    "10.1.2.3", "172.16.0.1", "192.168.0.1",  # RFC 1918
    "100.64.0.1", "100.127.255.254",  # shared address space (CGNAT)
    "127.0.0.1", "127.255.255.254",  # loopback
    "169.254.169.254",  # link-local: cloud metadata
    "192.0.0.1", "192.0.0.8", "192.0.0.9", "192.0.0.10", "192.0.0.170", "192.0.0.255",  # 192.0.0.0/24
    "192.0.2.1", "198.51.100.1", "203.0.113.1",  # documentation
    "192.88.99.1",  # deprecated 6to4 relay anycast: hands the packet to some relay
    "198.18.0.1", "198.19.255.254",  # benchmarking
    "224.0.0.1", "239.255.255.250",  # multicast
    "240.0.0.1", "255.255.255.255",  # reserved, limited broadcast
    # IPv6 special-purpose registry
    "::", "::1",  # unspecified, loopback
    "::127.0.0.1", "::10.0.0.1", "::8.8.8.8",  # IPv4-compatible ::/96 (deprecated)
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",  # IPv4-mapped, private inside
    "::ffff:0:7f00:1",  # IPv4-translated (SIIT, ::ffff:0:0:0/96)
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b::808:808",  # NAT64 well-known prefix
    "64:ff9b:1::1",  # NAT64 local-use prefix
    "100::1",  # discard-only
    "2001::1", "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo (embeds the server's IPv4)
    "2001:2::1", "2001:10::1", "2001:db8::1",  # benchmarking, ORCHID, documentation
    "2002:7f00:1::1", "2002:808:808::1",  # 6to4 (embeds an IPv4 address)
    "3fff::1",  # documentation (RFC 9637)
    "5f00::1",  # SRv6 SIDs (RFC 9602)
    "fc00::1", "fd00::1",  # unique local
    "fe80::1", "febf::1",  # link-local
    "fec0::1", "feff::1",  # site-local (deprecated)
    "ff02::1", "ff0e::1",  # multicast
    "4000::1", "e000::1",  # outside global unicast 2000::/3: unassigned
]

ALLOWED = [
    "8.8.8.8", "1.1.1.1", "93.184.215.14", "100.63.255.255", "100.128.0.0", "192.0.1.1",
    "192.31.196.1", "192.52.193.1", "192.175.48.1",  # AS112 / AMT: globally reachable
    "::ffff:8.8.8.8",  # IPv4-mapped form of a public address: the same connection
    "2606:4700:4700::1111", "2a00:1450:4001:80b::200e", "2620:4f:8000::1",
]


@pytest.mark.parametrize("address", REFUSED)
def test_non_global_addresses_are_refused(settings, address):
    settings.MCP_INDEX_OUTBOUND_ALLOW_CIDRS = []
    assert not address_allowed(ipaddress.ip_address(address))
    settings.MCP_INDEX_OUTBOUND_HOSTS = {"internal.example.test": address}
    with pytest.raises(OutboundError, match="private or reserved address; refused"):
        guarded_get("https://internal.example.test/", max_bytes=10, timeout=1)


@pytest.mark.parametrize("address", ALLOWED)
def test_global_addresses_are_allowed(settings, address):
    settings.MCP_INDEX_OUTBOUND_ALLOW_CIDRS = []
    assert address_allowed(ipaddress.ip_address(address))
    settings.MCP_INDEX_OUTBOUND_HOSTS = {"public.example.test": address}
    # Past the guard, the connection is attempted (and stopped by the tests' loopback-only
    # socket): the address itself was not what refused it.
    with pytest.raises(OutboundError, match=r"could not fetch from public\.example\.test"):
        guarded_get("https://public.example.test/", max_bytes=10, timeout=1)


def test_the_allow_list_exempts_only_its_ranges(settings):
    settings.MCP_INDEX_OUTBOUND_ALLOW_CIDRS = ["10.20.0.0/16", "fd12::/16"]
    assert address_allowed(ipaddress.ip_address("10.20.1.2"))
    assert address_allowed(ipaddress.ip_address("::ffff:10.20.1.2"))  # the same IPv4 host
    assert address_allowed(ipaddress.ip_address("fd12::5"))
    assert not address_allowed(ipaddress.ip_address("10.21.0.1"))
    assert not address_allowed(ipaddress.ip_address("::10.20.1.2"))  # compatible form: refused

