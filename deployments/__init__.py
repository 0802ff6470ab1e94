"""Deployment and automation definitions (filled by the deployment issue)."""
