"""Rows and values of the Volume service as its API shows them."""


def version(href: str) -> dict:
    return {"id": "v1.0", "status": "CURRENT", "links": [{"rel": "self", "href": href}]}
