"""Policy overrides, evaluation runs and findings (the engine adds its models here)."""
