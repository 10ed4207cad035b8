"""The eight scenarios of issue 5, one module each, each with ``run(ctx)``."""
