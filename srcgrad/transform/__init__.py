"""The source transformation: parse -> normalize -> analyze -> reverse -> optimize -> emit."""
