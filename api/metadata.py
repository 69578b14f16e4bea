"""What OPTIONS answers (REST_FRAMEWORK's DEFAULT_METADATA_CLASS)."""

from rest_framework.metadata import SimpleMetadata


class OperationMetadata(SimpleMetadata):
    """The view's name, description and media types, without DRF's `actions`.

    `actions` describes a POST or PUT by building the view's serializer, which views that pick
    their input and output serializers per operation do not declare (a 500), and it would run
    the view's permission and object look-ups a second time. The OpenAPI document at
    /api/schema/ describes every operation's fields; OPTIONS need not repeat it.
    """

    def determine_actions(self, request, view):
        return {}
