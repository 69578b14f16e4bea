from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination


class CursorPage(CursorPagination):
    """Opaque cursors: stable under inserts, no COUNT(*) on large tables."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering = "-id"

    def decode_cursor(self, request):
        # Every cursor page is ordered by id: a position that is not one is a forged cursor, refused
        # like any malformed one (404 `not_found`, DRF's own answer) rather than failing in the query.
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None and not str(cursor.position).isdigit():
            raise NotFound(self.invalid_cursor_message)
        return cursor
