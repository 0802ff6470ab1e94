"""Local stand-ins for outside services, speaking their real wire formats, for tests that run the real clients."""
