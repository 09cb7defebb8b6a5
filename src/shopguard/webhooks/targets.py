"""Where a webhook may go. A partner's URL must not become a way into the operator's
own network (SSRF): its host is resolved and every address it resolves to is checked
at registration, and again at connect time, where the connection goes to the very
address just checked (a name that resolves to a public address for the check and a
private one for the connection, DNS rebinding, gets nowhere). TLS still verifies the
certificate against the URL's host name."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

# Cloud metadata services that are not inside a private or link-local range already.
_METADATA = (ipaddress.ip_network("fd00:ec2::254/128"), ipaddress.ip_network("100.100.100.200/32"))
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: someone's inside


class TargetRefused(ValueError):
    """A URL or address webhooks may not be sent to (the message says why)."""


def refused_address(text: str) -> str | None:
    """Why this address is no webhook target (None: it may be)."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in net for net in _METADATA):
        return "a cloud metadata address"
    for why, test in (
        ("a loopback address", address.is_loopback),
        ("a link-local address (metadata services live there)", address.is_link_local),
        ("an unspecified address", address.is_unspecified),
        ("a multicast address", address.is_multicast),
        ("a private address", address.is_private),
        ("a reserved address", address.is_reserved),
    ):
        if test:
            return why
    if isinstance(address, ipaddress.IPv4Address) and address in _SHARED:
        return "a shared (carrier NAT) address"
    return None


def check_url(url: str, allow_http: bool) -> tuple[str, int]:
    """The host and port of a webhook URL, or TargetRefused naming what is wrong."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise TargetRefused(f"not a URL: {exc}") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise TargetRefused("an endpoint URL is https://host/path")
    if parts.scheme == "http" and not allow_http:
        raise TargetRefused("https only (settings: webhooks_allow_http)")
    if parts.username or parts.password:
        raise TargetRefused("no credentials in the URL (partners check the signature)")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def check_addresses(host: str, addresses: Iterable[str], allow_private: bool) -> None:
    found = list(addresses)
    if not found:
        raise TargetRefused(f"{host} does not resolve")
    if allow_private:
        return
    for address in found:
        why = refused_address(address)
        if why is not None:
            raise TargetRefused(
                f"{host} resolves to {address}, {why} (settings: webhooks_allow_private)"
            )


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an address literal: itself)."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return [host.strip("[]")]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise TargetRefused(f"{host} does not resolve: {exc.strerror or exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check_target(url: str, allow_private: bool, allow_http: bool) -> None:
    """Refuse a URL webhooks may not be sent to (TargetRefused), resolving its host."""
    host, port = check_url(url, allow_http)
    check_addresses(host, await resolve(host, port), allow_private)


class _CheckedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses that pass the check, resolved here, right before."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await resolve(host, port)
            check_addresses(host, addresses, self.allow_private)
        except TargetRefused as exc:
            raise httpcore.ConnectError(str(exc)) from None
        failed: Exception | None = None
        for address in addresses:  # each one checked above; the first that answers
            try:
                return await self.inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failed = exc
        assert failed is not None  # resolve() never returns no address
        raise failed

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def client(allow_private: bool, timeout: float, connections: int) -> httpx.AsyncClient:
    """The HTTP client deliveries go out on: checked connections, no proxies from the
    environment, no redirects (a 3xx is a failed attempt, not a new target)."""
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl.create_default_context(),
        max_connections=connections,
        keepalive_expiry=5.0,
        network_backend=_CheckedBackend(allow_private),
    )
    return httpx.AsyncClient(
        transport=transport, timeout=timeout, follow_redirects=False, trust_env=False
    )
