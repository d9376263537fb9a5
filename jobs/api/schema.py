"""OpenAPI helpers of the jobs views: the shared ones of ``cronhub.api.schema``
(error bodies by status, path and query parameters), so every app's document
describes its responses with the same components."""

from cronhub.api.schema import bounded, errors, path_id, query

__all__ = ["bounded", "errors", "path_id", "query"]
