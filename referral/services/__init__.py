"""Use cases: one function each, owning its transaction. They need an app context, never a
request: the acting marketer or workspace is always an argument."""
