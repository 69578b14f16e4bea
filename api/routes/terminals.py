from django.urls import path

from api.views import terminals

urlpatterns = [
    path("merchant/terminals", terminals.MerchantTerminalListView.as_view(), name="merchant-terminals"),
    path("merchant/terminals/<int:terminal_id>", terminals.MerchantTerminalDetailView.as_view(), name="merchant-terminal"),
    path(
        "merchant/terminals/<int:terminal_id>/rotate-key",
        terminals.MerchantTerminalRotateKeyView.as_view(),
        name="merchant-terminal-rotate-key",
    ),
    path("merchant/terminals/<int:terminal_id>/revoke", terminals.MerchantTerminalRevokeView.as_view(), name="merchant-terminal-revoke"),
]
