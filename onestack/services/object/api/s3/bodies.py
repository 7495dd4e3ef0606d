"""The XML bodies S3 clients send (CreateBucketConfiguration, Delete, CompleteMultipartUpload), read with
no DTD or entities: S3's own bodies never need them."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from onestack.services.object.api.s3.faults import S3Error


def malformed() -> S3Error:
    return S3Error("MalformedXML", "The XML you provided was not well-formed or did not validate against our "
                   "published schema.")


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def text(node: ElementTree.Element, name: str) -> str | None:
    """The text of ``node``'s child ``name`` (any namespace), None when it has none."""
    for child in node:
        if local(child.tag) == name:
            return child.text or ""
    return None


def parse(body: bytes) -> ElementTree.Element:
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise malformed()
    try:
        return ElementTree.fromstring(body)
    except ElementTree.ParseError:
        raise malformed() from None

