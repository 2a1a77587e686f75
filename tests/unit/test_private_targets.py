"""``service.webhooks``: which webhook targets count as private (SSRF filter)."""

from __future__ import annotations

import pytest

from centauro.domain.errors import InvalidRequest
from centauro.service.webhooks import check_url, is_private

PRIVATE = [
    # the three forms of the issue: loopback hidden in IPv6
    "64:ff9b::7f00:1",  # NAT64 well-known prefix carrying 127.0.0.1
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "::127.0.0.1",  # IPv4-compatible
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.1.2.3",
    "64:ff9b::a9fe:a9fe",  # NAT64 to 169.254.169.254 (cloud metadata)
    "64:ff9b::c0a8:101",  # NAT64 to 192.168.1.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "2002:c0a8:101::",  # 6to4 of 192.168.1.1
    "64:ff9b:1::808:808",  # NAT64 local-use prefix: never public
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    # the usual ranges
    "127.0.0.1",
    "10.0.0.5",
    "172.16.0.1",
    "192.168.0.1",
    "169.254.169.254",
    "100.64.0.1",  # shared / CGNAT
    "0.0.0.0",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "fe80::1%eth0",
    "fc00::1",
    "fd12:3456::1",
    "fec0::1",
    "ff02::1",
    "2001:db8::1",
]

PUBLIC = [
    "8.8.8.8",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",  # mapped public address: the IPv4 one decides
    "64:ff9b::808:808",  # NAT64 to 8.8.8.8
    "2002:808:808::1",  # 6to4 of 8.8.8.8
]


@pytest.mark.parametrize("address", PRIVATE)
def test_is_private_sees_through_embedded_ipv4(address: str) -> None:
    assert is_private(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_is_private_lets_public_addresses_through(address: str) -> None:
    assert not is_private(address)


@pytest.mark.parametrize(
    "url",
    ["http://[64:ff9b::7f00:1]/", "http://[2002:7f00:1::]/", "http://[::127.0.0.1]/hook"],
)
def test_check_url_refuses_ipv6_spellings_of_loopback(url: str) -> None:
    with pytest.raises(InvalidRequest, match="private"):
        check_url(url, allow_private=False)
    assert check_url(url, allow_private=True) == url
