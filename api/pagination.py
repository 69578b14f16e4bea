from rest_framework.pagination import CursorPagination


class CursorPage(CursorPagination):
    """Opaque cursors: stable under inserts, no COUNT(*) on large tables."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering = "-id"
