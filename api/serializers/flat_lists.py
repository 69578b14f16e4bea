"""Rendering long lists of flat outputs (statement lines) without DRF's per-field generic path.

A statement page is fifty rows of seven plain fields. DRF renders each field of each row through
`Field.get_attribute` (source traversal, callable checks, `ObjectDoesNotExist` handling) before its
`to_representation`: on a statement page that generic path was half of the worker's time. A flat
output needs none of it: every field reads one attribute of the row.

The serializer stays the one declaration of the output: drf-spectacular reads its fields for the
schema, and each field's own `to_representation` renders its value here. Only the public,
documented extension point is used (`Meta.list_serializer_class`), and the fields' public
`source`, `field_name` and `to_representation`. A child with any other kind of field (a dotted
source, a method field, a nested serializer) is refused when the list is built, not rendered
slowly or wrongly.
"""

from rest_framework import serializers


class FlatListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        fields = [field for field in self.child.fields.values() if not field.write_only]
        for field in fields:
            if "." in field.source or field.source == "*" or isinstance(field, (serializers.SerializerMethodField, serializers.BaseSerializer)):
                raise TypeError(f"{type(self.child).__name__}.{field.field_name} is not a plain attribute: use a ListSerializer")
        plan = [(field.field_name, field.source, field.to_representation) for field in fields]
        rendered = []
        for row in data:
            item = {}
            for name, source, represent in plan:
                value = getattr(row, source)
                item[name] = None if value is None else represent(value)
            rendered.append(item)
        return rendered
