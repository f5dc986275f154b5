"""What the two HTTP entry points — the REST API (kefu.api) and the pages (kefu.web) — say alike.

Both answer a domain error with the same status code and page through lists with the same opaque
cursors, so that vocabulary lives here, between them, and not in either: the pages do not depend on
the API to speak HTTP, and neither entry point depends on the other. Nothing in this package imports
a web framework or an entry point (see the import-linter contracts in pyproject.toml); it knows the
domain's errors and plain values only.

- cursors: the keyset cursors (the last id of a page, opaque to clients).
- errors: the status code for each domain error.
- attachments: the headers a customer's file is served with.
"""
