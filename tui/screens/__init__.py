"""One screen per top-level view, each with its own stylesheet."""
