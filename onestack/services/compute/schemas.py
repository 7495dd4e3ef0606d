"""Request schemas of the compute API (at 2.1; a later microversion's schema is a small change of one here)."""

NAME = {"type": "string", "minLength": 1, "maxLength": 255, "pattern": r"^(?! )[^\x00-\x1f]*(?<! )$"}
METADATA = {"type": "object", "patternProperties": {r"^[a-zA-Z0-9-_:. ]{1,255}$": {"type": "string", "maxLength": 255}},
            "additionalProperties": False}
UUID = {"type": "string", "format": "uuid"}

server_create = {
    "type": "object",
    "properties": {
        "server": {
            "type": "object",
            "properties": {
                "name": NAME,
                "imageRef": {"type": "string", "maxLength": 255},
                "flavorRef": {"type": ["string", "integer"], "minLength": 1},
                "adminPass": {"type": "string"},
                "metadata": METADATA,
                "networks": {"oneOf": [
                    {"type": "array", "items": {"type": "object", "properties": {
                        "uuid": {"type": "string"}, "port": {"type": ["string", "null"]},
                        "fixed_ip": {"type": "string"}, "tag": {"type": "string"}},
                        "additionalProperties": False}},
                    {"type": "string", "enum": ["auto", "none"]}]},
                "key_name": {"type": "string", "minLength": 1, "maxLength": 255},
                "user_data": {"type": "string", "maxLength": 65535},
                "security_groups": {"type": "array", "items": {"type": "object", "properties": {
                    "name": {"type": "string", "minLength": 1, "maxLength": 255}}, "required": ["name"],
                    "additionalProperties": False}},
                "availability_zone": {"type": "string", "minLength": 1, "maxLength": 255},
                "config_drive": {"type": ["boolean", "string"]},
                "min_count": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1},
                "max_count": {"type": ["integer", "string"], "pattern": "^[0-9]+$", "minimum": 1},
                "return_reservation_id": {"type": ["boolean", "string"]},
                "accessIPv4": {"type": "string", "format": "ipv4"},
                "accessIPv6": {"type": "string", "format": "ipv6"},
                "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]},
                "block_device_mapping_v2": {"type": "array"},
                "block_device_mapping": {"type": "array"},
                "personality": {"type": "array"},
            },
            "required": ["name", "flavorRef"],
            "additionalProperties": False,
        },
        "os:scheduler_hints": {"type": "object", "properties": {"group": UUID}},
        "OS-SCH-HNT:scheduler_hints": {"type": "object", "properties": {"group": UUID}},
    },
    "required": ["server"],
    "additionalProperties": False,
}

server_update = {
    "type": "object",
    "properties": {"server": {"type": "object", "properties": {
        "name": NAME, "accessIPv4": {"type": "string", "format": "ipv4"},
        "accessIPv6": {"type": "string", "format": "ipv6"},
        "OS-DCF:diskConfig": {"type": "string", "enum": ["AUTO", "MANUAL"]}},
        "additionalProperties": False}},
    "required": ["server"],
    "additionalProperties": False,
}

metadata_all = {"type": "object", "properties": {"metadata": METADATA}, "required": ["metadata"],
                "additionalProperties": False}
metadata_item = {"type": "object", "properties": {"meta": {**METADATA, "minProperties": 1, "maxProperties": 1}},
                 "required": ["meta"], "additionalProperties": False}

server_group_create = {
    "type": "object",
    "properties": {"server_group": {"type": "object", "properties": {
        "name": NAME,
        "policies": {"type": "array", "minItems": 1, "maxItems": 1, "items": {
            "enum": ["anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"]}},
        "policy": {"enum": ["anti-affinity", "affinity", "soft-anti-affinity", "soft-affinity"]},
        "rules": {"type": "object", "properties": {"max_server_per_host": {"type": "integer", "minimum": 1}},
                  "additionalProperties": False}},
        "required": ["name"], "additionalProperties": False}},
    "required": ["server_group"],
    "additionalProperties": False,
}
