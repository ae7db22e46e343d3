"""Where colors run: the platform adapters the runner acts through (sandbox, Kubernetes)."""
