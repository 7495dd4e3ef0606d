"""Object Storage: Swift's API (accounts, containers, objects) under ``/object-store/v1/AUTH_<project>``."""
