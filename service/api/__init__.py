"""The HTTP API: dependencies, middleware and one router per resource."""
