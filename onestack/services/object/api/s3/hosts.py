"""Virtual-hosted buckets: a request to ``<bucket>.<domain>`` (``domain`` one of the ``s3_domains``
setting) names its bucket in its ``Host``, and its whole path is the key; a request to ``<domain>`` itself
is path-style from the root.  Such a host is S3's alone: no other service answers on it."""

from __future__ import annotations

BUCKET = "onestack.s3_bucket"  # the scope's entry: the Host's bucket ("": none, path-style)


def bucket_of(scope: dict, domains: list[str]) -> str | None:
    """The bucket the request's Host names ("" for a bare S3 domain), None when it is no S3 domain's."""
    if not domains:
        return None
    host = ""
    for name, value in scope.get("headers", ()):
        if name == b"host":
            host = value.decode("latin-1").lower()
            break
    if host.startswith("["):  # an IPv6 literal is no S3 domain
        return None
    host = host.rsplit(":", 1)[0].rstrip(".")
    for domain in domains:
        domain = domain.lower().strip(".")
        if host == domain:
            return ""
        if host.endswith("." + domain) and len(host) > len(domain) + 1:
            return host[:-len(domain) - 1]
    return None
