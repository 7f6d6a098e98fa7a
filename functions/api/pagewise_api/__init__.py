"""The HTTP edge of Pagewise: routes, request and response schemas, JWT checks."""
