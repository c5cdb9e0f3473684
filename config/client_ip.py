"""The client's address: one rule for the throttles, the login lockout and anything else that asks.

The rule is DRF's (`REST_FRAMEWORK["NUM_PROXIES"]`, set from `TRUSTED_PROXY_COUNT`): with 0 the socket
address (`REMOTE_ADDR`), with N the N-th address from the right of `X-Forwarded-For`, the one the last
trusted proxy wrote. Whatever a client puts further left is never read.
"""

import ipaddress

from rest_framework.throttling import BaseThrottle

_rule = BaseThrottle()


def client_ip(request) -> str | None:
    """The client's IP address under the TRUSTED_PROXY_COUNT rule; None when that is not an IP address."""
    address = _rule.get_ident(request)
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:  # e.g. a request that reached the app without passing the proxies it trusts
        return None
