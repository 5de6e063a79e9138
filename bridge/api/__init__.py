"""The HTTP API: intake (HMAC), staff (bearer token), public verification, and operations endpoints."""
