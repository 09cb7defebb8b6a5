"""Private, loopback, link-local and metadata targets are refused unless allowed."""

from __future__ import annotations

import asyncio

import pytest

from shopguard.webhooks.targets import TargetRefused, check_target, refused_address


@pytest.mark.parametrize(
    ("address", "why"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("172.16.5.4", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("fe80::1", "link-local"),
        ("fd00:ec2::254", "metadata"),
        ("100.100.100.200", "metadata"),
        ("100.64.0.1", "shared"),
        ("0.0.0.0", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("224.0.0.1", "multicast"),
    ],
)
def test_inside_addresses_are_refused(address: str, why: str) -> None:
    found = refused_address(address)
    assert found is not None and why in found


def test_public_addresses_pass() -> None:
    assert refused_address("93.184.216.34") is None
    assert refused_address("2606:2800:220:1:248:1893:25c8:1946") is None


def _check(url: str, private: bool = False, http: bool = False) -> None:
    asyncio.run(check_target(url, private, http))


def test_urls_are_checked_for_scheme_credentials_and_where_they_resolve() -> None:
    _check("https://93.184.216.34/hooks")
    for url, why in (
        ("http://93.184.216.34/hooks", "https only"),
        ("ftp://93.184.216.34/", "https://"),
        ("https://user:pw@93.184.216.34/", "credentials"),
        ("https://127.0.0.1/hooks", "loopback"),
        ("https://[::1]:8443/hooks", "loopback"),
        ("https://localhost/hooks", "loopback"),  # resolved: every address checked
        ("https://169.254.169.254/latest/meta-data", "link-local"),
    ):
        with pytest.raises(TargetRefused, match=why):
            _check(url)
    _check("http://127.0.0.1:9/hooks", private=True, http=True)  # a test bench allows them
