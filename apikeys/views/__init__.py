"""Views of the Manage API Keys pages, one module per feature:
listing (the list, reveal/copy, renew, retire), custom (create, edit, delete custom keys),
get_started (sample requests for a key)."""
