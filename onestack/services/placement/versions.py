"""The placement API's microversions: the range onestack serves and what changed in each.

Every version from 1.0 to the maximum is served (Placement has no gaps); views, schemas and handlers ask
``version.at_least("1.x")``.
"""

from __future__ import annotations

from onestack.http.microversion import Microversions, Version

HISTORY: dict[str, str] = {
    "1.0": "Resource providers, their inventories and usages; allocations of consumers.",
    "1.1": "Resource providers have aggregates (/resource_providers/{uuid}/aggregates).",
    "1.2": "Custom resource classes (/resource_classes).",
    "1.3": "Resource provider lists filter by member_of.",
    "1.4": "Resource provider lists filter by resources they have room for.",
    "1.5": "DELETE /resource_providers/{uuid}/inventories removes every inventory.",
    "1.6": "Traits (/traits and /resource_providers/{uuid}/traits).",
    "1.7": "PUT /resource_classes/{name} creates a custom class if missing and takes no body.",
    "1.8": "Allocation writes name the consumer's project_id and user_id.",
    "1.9": "GET /usages: a project's (and a user's) total usage.",
    "1.10": "GET /allocation_candidates.",
    "1.11": "Resource providers link to their allocations.",
    "1.12": "Allocations are written and shown keyed by provider uuid, with project and user shown.",
    "1.13": "POST /allocations writes several consumers' allocations at once.",
    "1.14": "Nested resource providers: parent_provider_uuid, root_provider_uuid and the in_tree filter.",
    "1.15": "Responses say Last-Modified and Cache-Control: no-cache.",
    "1.16": "Allocation candidates take a limit.",
    "1.17": "Allocation candidates filter by required traits; summaries show traits.",
    "1.18": "Resource provider lists filter by required traits.",
    "1.19": "Provider aggregates carry the provider generation, and setting them checks and bumps it.",
    "1.20": "Creating a resource provider answers 200 with its body.",
    "1.21": "Allocation candidates filter by member_of.",
    "1.22": "Forbidden traits (!TRAIT) in required.",
    "1.23": "Errors carry a code.",
    "1.24": "member_of may be given several times (each must be satisfied).",
    "1.25": "Granular request groups (resourcesN, requiredN, member_ofN) and group_policy.",
    "1.26": "An inventory's reserved may equal its total.",
    "1.27": "Provider summaries show every resource class the provider has.",
    "1.28": "Consumer generations guard allocation writes; an empty allocation map releases.",
    "1.29": "Allocation candidates span nested provider trees; summaries show parent and root.",
    "1.30": "POST /reshaper moves inventories and allocations in one transaction.",
    "1.31": "Allocation candidates filter by in_tree (also per group).",
    "1.32": "Forbidden aggregates (member_of=!in:...).",
    "1.33": "Request group suffixes may be strings.",
    "1.34": "Allocation candidates map request groups to providers (mappings).",
    "1.35": "Allocation candidates filter on the root provider's traits (root_required).",
    "1.36": "same_subtree, and request groups without resources.",
    "1.37": "A provider may move to another parent or become a root.",
    "1.38": "Consumers have a consumer_type; usages group by it.",
    "1.39": "required takes in: for any of several traits, and may be repeated.",
}

MIN_VERSION = Version(1, 0)
MAX_VERSION = Version.parse(max(HISTORY, key=Version.parse))
MICROVERSIONS = Microversions("placement", MIN_VERSION, MAX_VERSION)
