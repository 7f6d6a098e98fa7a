"""Callback URLs Pagewise will call (the SSRF guard): checked by the API when a job is made,
and again at delivery once the host name is resolved."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

MAX_CALLBACK_URL_LENGTH = 2048
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
# DNS: a label is at most 63 octets, a name at most 253 (RFC 1035); a host name's labels are
# letters, digits and hyphens (RFC 1123), in their IDNA (xn--) form for other scripts.
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
MAX_HOST_LENGTH = 253
# IPv6 forms that carry an IPv4 address to a translator or tunnel, whose far end we cannot
# see: NAT64 (well-known and local-use prefixes), 6to4, and IPv4-compatible (::a.b.c.d).
_TRANSLATED = (
    ipaddress.IPv6Network("64:ff9b::/96"),
    ipaddress.IPv6Network("64:ff9b:1::/48"),
    ipaddress.IPv6Network("2002::/16"),
    ipaddress.IPv6Network("::/96"),
)


class CallbackUrlRefused(ValueError):
    """A callback URL Pagewise will not call."""


def _is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d is that IPv4 address
            return _is_public(address.ipv4_mapped)
        if any(address in network for network in _TRANSLATED):
            return False
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
    # urlsplit drops tabs and line breaks silently, and http.client refuses them (a request
    # line with CR/LF in it is header injection): refuse them, and spaces, here.
    if any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        raise CallbackUrlRefused("spaces and control characters are not accepted")
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
        _check_host_name(host)
        return url
    if not _is_public(literal):
        raise CallbackUrlRefused("private, loopback, link-local and reserved addresses are refused")
    return url


def _check_host_name(host: str) -> None:
    """A name DNS can hold and IDNA can encode (else resolving it raises at delivery)."""
    try:
        encoded = host.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise CallbackUrlRefused(
            f"not a valid host name (a label is empty or over 63): {error}"
        ) from error
    if len(encoded) > MAX_HOST_LENGTH:
        raise CallbackUrlRefused(f"a host name is at most {MAX_HOST_LENGTH} characters")
    for label in encoded.split("."):
        if not _LABEL.match(label):
            raise CallbackUrlRefused(f"not a valid host name label: {label[:70]!r}")


def check_resolved_addresses(host: str, addresses: Iterable[str], allow_local: bool) -> None:
    """Refuse a host that resolves to any non-public address (DNS pointing at our network)."""
    for text in addresses:
        address = ipaddress.ip_address(text.split("%")[0])
        if _is_public(address):
            continue
        if allow_local and host.lower() in LOCAL_HOSTS and address.is_loopback:
            continue
        raise CallbackUrlRefused(f"{host} resolves to a non-public address")
