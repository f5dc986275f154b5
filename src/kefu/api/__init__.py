"""The REST API under /api/v1: one router module per feature, registered in `app.py`.

Where things live:

- A request or response model (pydantic) used by one router lives in that router's module, next to
  its routes. A model used by two or more routers lives in `schemas.py`, together with what every
  model builds on (`Strict`, `MAX_ID`) and the problem document of every error answer. When a model
  comes to be used by a second router, it moves to `schemas.py`.
- What routes take from the request besides the body lives in `deps.py`, as `Annotated` aliases:
  `ctx: Ctx, user: CurrentUser` on every authenticated route, `Id` for ids in the path, `IfMatch`
  with `if_match_version` and `etag` for optimistic concurrency. A route answers a changed resource
  with `responses.versioned` (its ETag, and its Location when just created).
- A router module stays under about 400 lines; one that grows past it is split by feature.
"""
