"""Request bodies of the Volume API as JSON Schemas (version-keyed with ``routing.Versioned`` where the
API has microversions), handed to ``route(schema=...)``."""
