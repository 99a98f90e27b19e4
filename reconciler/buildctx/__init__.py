"""buildctx stage."""
