"""Identity (Keystone v3): domains, projects, users, groups, roles and their assignments, tokens, the
service catalog, credentials, trusts, OAuth 1.0a delegation and unified limits."""
