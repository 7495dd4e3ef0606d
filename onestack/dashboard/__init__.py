"""The web dashboard: server-rendered pages over the public OpenStack APIs.

It is a client like openstackclient: it signs people into Keystone with their password, keeps their
token on the server side of an opaque session cookie, and reaches every other service through the
endpoints in that token's catalog.  It imports no service and never opens the database, so it can be
pointed at any OpenStack cloud by its auth URL.
"""
