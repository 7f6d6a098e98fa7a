"""Callback URLs Pagewise will call (the SSRF guard): checked by the API when a job is made,
and again at delivery once the host name is resolved."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from urllib.parse import urlsplit

MAX_CALLBACK_URL_LENGTH = 2048
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class CallbackUrlRefused(ValueError):
    """A callback URL Pagewise will not call."""


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _is_public(address.ipv4_mapped)
    # is_global is False for private, loopback, link-local (169.254.169.254, the instance
    # metadata service), shared (100.64/10), reserved and unspecified ranges, and for
    # fd00:ec2::254 (unique local): everything a webhook could use to reach our own network.
    return address.is_global and not address.is_multicast


def check_callback_url(url: str, allow_local: bool = False) -> str:
    """The URL if Pagewise may call it, else CallbackUrlRefused saying why.

    https only. ``allow_local`` (the local stack) also lets http reach 127.0.0.1/localhost, and
    only those: every other private, loopback or link-local address stays refused. Host names
    are checked again once resolved, at delivery (``check_resolved_addresses``).
    """
    if len(url) > MAX_CALLBACK_URL_LENGTH:
        raise CallbackUrlRefused(f"longer than {MAX_CALLBACK_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises on a port that is not a number or out of range
    except ValueError as error:
        raise CallbackUrlRefused(f"not a URL: {error}") from error
    host = (parts.hostname or "").lower()
    if not host:
        raise CallbackUrlRefused("no host")
    if parts.username is not None or parts.password is not None:
        raise CallbackUrlRefused("credentials in the URL are not accepted; use the signature")
    if parts.fragment:
        raise CallbackUrlRefused("fragments are not sent; remove the '#' part")
    local = host in LOCAL_HOSTS
    if parts.scheme == "http":
        if not (allow_local and local):
            raise CallbackUrlRefused("https is required")
    elif parts.scheme != "https":
        raise CallbackUrlRefused("https is required")
    if local or host.endswith(".localhost"):
        if not (allow_local and local):
            raise CallbackUrlRefused("a local address is not reachable from the service")
        return url
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        if "." not in host:
            raise CallbackUrlRefused("a host name with a domain is required") from None
        return url
    if not _is_public(literal):
        raise CallbackUrlRefused("private, loopback, link-local and reserved addresses are refused")
    return url


def check_resolved_addresses(host: str, addresses: Iterable[str], allow_local: bool) -> None:
    """Refuse a host that resolves to any non-public address (DNS pointing at our network)."""
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if _is_public(address):
            continue
        if allow_local and host.lower() in LOCAL_HOSTS and address.is_loopback:
            continue
        raise CallbackUrlRefused(f"{host} resolves to a non-public address")
