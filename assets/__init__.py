"""Default assets: ``controls.toml`` (the default bindings; package data)."""
