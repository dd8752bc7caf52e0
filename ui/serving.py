"""Where the app may be served: anything but loopback needs a login."""

from __future__ import annotations

import ipaddress
from typing import Any

from rag.errors import RagError


def is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False  # a host name may resolve to any address


def check_serving(host: str, auth: Any) -> None:
    """Upload and delete must not be open to the network: anything but loopback needs a login."""
    if not auth and not is_loopback(host):
        raise RagError(f"refusing to serve on {host} without a login: pass --auth user:password or set RAG_UI_AUTH")
