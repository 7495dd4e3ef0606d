"""Request bodies of the Orchestration API as JSON Schemas, handed to ``route(schema=...)``.  Heat checks
little of a body's shape itself: the template, environment and parameters are checked by the service,
which names the path of what is wrong."""

stack_create = {
    "type": "object",
    "properties": {
        "stack_name": {"type": "string"},
        "template": {"type": ["object", "string"]},
        "template_url": {"type": "string"},
        "files": {"type": "object", "additionalProperties": {"type": "string"}},
        "environment": {"type": ["object", "string"]},
        "environment_files": {"type": "array", "items": {"type": "string"}},
        "parameters": {"type": "object"},
        "timeout_mins": {"type": ["integer", "string", "null"]},
        "disable_rollback": {"type": ["boolean", "string"]},
        "tags": {"type": ["string", "array", "null"]},
    },
    "required": ["stack_name"],
}

# PATCH (``existing``) from heatclient sends what it leaves unchanged as null (``"template": null``).
stack_update = {"type": "object", "required": [], "properties": {
    **stack_create["properties"],
    "template": {"type": ["object", "string", "null"]},
    "files": {"type": ["object", "null"], "additionalProperties": {"type": "string"}},
    "environment": {"type": ["object", "string", "null"]},
    "parameters": {"type": ["object", "null"]},
}}

template_validate = {
    "type": "object",
    "properties": {k: stack_create["properties"][k] for k in
                   ("template", "template_url", "files", "environment", "environment_files", "parameters")},
}

stack_action = {"type": "object", "minProperties": 1, "maxProperties": 1}
snapshot_create = {"type": "object", "properties": {"name": {"type": ["string", "null"], "maxLength": 255}}}
