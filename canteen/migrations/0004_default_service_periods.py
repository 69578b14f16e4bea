"""Every school gets a default period "Lunch" with its existing cut-off; existing menu items, orders and
cut-off runs join it. Its own migration: PostgreSQL refuses to alter a table with deferred checks pending."""

from django.db import migrations


def default_periods(apps, schema_editor):
    School = apps.get_model("guardians", "School")
    CanteenSettings = apps.get_model("canteen", "CanteenSettings")
    ServicePeriod = apps.get_model("canteen", "ServicePeriod")
    MenuItem = apps.get_model("canteen", "MenuItem")
    Order = apps.get_model("canteen", "Order")
    CutoffRun = apps.get_model("canteen", "CutoffRun")
    late = dict(CanteenSettings.objects.values_list("school_id", "late_cutoff"))
    for school in School.objects.all():
        late_cutoff = late.get(school.pk)
        period = ServicePeriod.objects.create(
            school=school,
            name="Lunch",
            cutoff=school.canteen_cutoff,
            late_cutoff=late_cutoff if late_cutoff is not None and late_cutoff > school.canteen_cutoff else None,
            is_default=True,
        )
        Order.objects.filter(school=school).update(period=period)
        CutoffRun.objects.filter(school=school).update(period=period)
        period.menu_items.add(*MenuItem.objects.filter(school=school))


class Migration(migrations.Migration):
    dependencies = [("canteen", "0003_service_periods")]

    operations = [
        migrations.RunPython(default_periods, migrations.RunPython.noop),
    ]
