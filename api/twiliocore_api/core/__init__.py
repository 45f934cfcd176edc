"""Configuration, security and database plumbing of the service."""
