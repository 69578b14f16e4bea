from rest_framework.exceptions import APIException, NotFound
from rest_framework.pagination import Cursor, CursorPagination


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


class KeysetPage(CursorPage):
    """Explicit keyset pagination by id, newest first, for lists a function pages itself.

    `fetch(before_id=, after_id=, limit=)` returns up to `limit` rows (each with an `id`) newest first: just older than
    `before_id`, or just newer than `after_id`. The cursors are DRF's own encoding (a position and a
    direction), so links, `page_size` and `invalid_cursor` answer as on every other list.
    """

    def page(self, request, fetch) -> dict:
        self.request = request
        self.base_url = request.build_absolute_uri()
        self.page_size = self.get_page_size(request)
        cursor = self.decode_cursor(request)
        position = int(cursor.position) if cursor is not None and cursor.position is not None else None
        if cursor is not None and cursor.reverse:
            rows = fetch(before_id=None, after_id=position, limit=self.page_size + 1)
            has_previous, has_next = len(rows) > self.page_size, position is not None
            rows = rows[1:] if has_previous else rows  # the extra row is the newest: it belongs to the page before
        else:
            rows = fetch(before_id=position, after_id=None, limit=self.page_size + 1)
            has_next, has_previous = len(rows) > self.page_size, position is not None
            rows = rows[: self.page_size]
        return {
            "next": self.encode_cursor(Cursor(offset=0, reverse=False, position=rows[-1].id)) if has_next and rows else None,
            "previous": self.encode_cursor(Cursor(offset=0, reverse=True, position=rows[0].id)) if has_previous and rows else None,
            "results": rows,
        }
