from rest_framework.exceptions import APIException, NotFound
from rest_framework.pagination import CursorPagination


class InvalidCursor(APIException):
    status_code = 400
    default_code = "invalid_cursor"
    default_detail = "The cursor is not one this list gave out; start again from the first page, without `cursor`."


class CursorPage(CursorPagination):
    """Opaque cursors: stable under inserts, no COUNT(*) on large tables.

    A cursor that does not decode, or decodes to a position no page of ours gives out (every page
    is ordered by id, so a position that is not one is forged), answers 400 `invalid_cursor`:
    the client sent something wrong; the list itself exists (DRF's own answer is a 404).
    """

    page_size = 50
    max_page_size = 200
    page_size_query_param = "page_size"
    ordering = "-id"

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise InvalidCursor() from None
        if cursor is not None and cursor.position is not None and not str(cursor.position).isdigit():
            raise InvalidCursor()
        return cursor
