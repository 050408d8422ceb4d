"""A local service for callers that do not embed Python: JSON-RPC 2.0 over stdio or HTTP."""
