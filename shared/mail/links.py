"""Absolute links in mail: to the vendor's host or a school's, with the scheme and port the
settings give (``SITE_SCHEME``, ``SITE_PORT``), and the check that a message links nowhere else."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django.conf import settings

from shared.schools.selectors import school_hostname, site_url

# Every URL written out in a message's text, and every attribute that could fetch or link in its HTML.
URL_PATTERN = re.compile(r"""(?i)(?:\b[a-z][a-z0-9+.-]*:|(?<![\w/:]))//[^\s<>"'()]+""")
_HTML_LINKS = re.compile(r"""(?i)\b(href|src|srcset|action|background|poster|data)\s*=\s*(["']?)([^"'\s>]*)""")
_HTML_FETCHES = re.compile(r"""(?i)<\s*(img|picture|video|audio|iframe|object|embed|link|script|svg|source)\b|url\s*\(|@import""")


class ForeignLinkRefused(ValueError):
    """A message would link to (or load from) a host that is not the product's."""


def absolute_url(path: str, *, school=None) -> str:
    """``path`` on the vendor's host, or on ``school``'s (``<subdomain>.<BASE_DOMAIN>``)."""
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError(f"absolute_url takes a path starting with one '/', not {path[:60]!r}")
    host = settings.BASE_DOMAIN if school is None else school_hostname(subdomain=school_subdomain(school))
    return site_url(host, path)


def school_subdomain(school) -> str:
    """The school's subdomain: its primary domain's first label under BASE_DOMAIN."""
    domain = school.get_primary_domain()
    suffix = f".{settings.BASE_DOMAIN}"
    if domain is not None and domain.domain.endswith(suffix):
        return domain.domain[: -len(suffix)]
    return school.schema_name.replace("_", "-")


def is_product_host(host: str | None) -> bool:
    host = (host or "").lower().rstrip(".")
    base = settings.BASE_DOMAIN
    return host == base or host.endswith(f".{base}")


def links_check(*, text: str, html: str) -> None:
    """Refuse (``ForeignLinkRefused``) a link to another host in either part, and anything in the
    HTML that would load from anywhere (images, frames, styles fetched by URL): no remote images,
    no tracking pixels."""
    fetch = _HTML_FETCHES.search(html)
    if fetch:
        raise ForeignLinkRefused(f"mail HTML may not load anything ({fetch.group(0)!r}): no images, frames or "
                                 "remote styles")
    urls = [m.group(0) for m in URL_PATTERN.finditer(text)] + [m.group(0) for m in URL_PATTERN.finditer(html)]
    for name, _, value in _HTML_LINKS.findall(html):
        if name.lower() != "href":
            raise ForeignLinkRefused(f"mail HTML may not carry a {name}= attribute")
        if value.lower().startswith("mailto:") or value.startswith("#"):
            continue
        urls.append(value)
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not is_product_host(parts.hostname):
            raise ForeignLinkRefused(f"mail may only link to the product's own hosts, not {url[:80]!r}")
