"""The HTTP client: `client.InferenceHTTPClient` over the I/O-free core in `protocol`/`operations`."""
