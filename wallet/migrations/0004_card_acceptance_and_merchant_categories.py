"""Merchants always have registered categories; schools decide which merchants take their students' cards.

Existing rows: a merchant registered for nothing is registered for `other` (so a guardian's ban on `other`
reaches it); a school's own merchant (`Merchant.school`) keeps taking that school's cards. No other
acceptance is assumed: an outside merchant that charged student cards before needs the school to enable it.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import core.clock
import wallet.models.merchants


def register_uncategorised_merchants_as_other(apps, schema_editor):
    apps.get_model("wallet", "Merchant").objects.filter(categories=[]).update(categories=["other"])


def schools_accept_their_own_merchants(apps, schema_editor):
    Merchant = apps.get_model("wallet", "Merchant")
    CardAcceptance = apps.get_model("wallet", "CardAcceptance")
    CardAcceptance.objects.bulk_create(
        [CardAcceptance(school_id=school_id, merchant_id=merchant_id) for merchant_id, school_id in Merchant.objects.filter(school__isnull=False).values_list("pk", "school_id")],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('guardians', '0003_outbound_webhooks'),
        ('wallet', '0003_payments_processing'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CardAcceptance',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('enabled_at', models.DateTimeField(default=core.clock.now)),
                ('disabled_at', models.DateTimeField(blank=True, null=True)),
            ],
            options={
                'ordering': ['school_id', 'merchant_id', '-enabled_at'],
            },
        ),
        migrations.AlterField(
            model_name='merchant',
            name='categories',
            field=models.JSONField(validators=[wallet.models.merchants.validate_merchant_categories]),
        ),
        migrations.RunPython(register_uncategorised_merchants_as_other, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='merchant',
            constraint=models.CheckConstraint(condition=models.Q(('categories', []), _negated=True), name='merchant_has_categories'),
        ),
        migrations.AddField(
            model_name='cardacceptance',
            name='disabled_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='cardacceptance',
            name='enabled_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='cardacceptance',
            name='merchant',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='card_acceptances', to='wallet.merchant'),
        ),
        migrations.AddField(
            model_name='cardacceptance',
            name='school',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='card_acceptances', to='guardians.school'),
        ),
        migrations.AddConstraint(
            model_name='cardacceptance',
            constraint=models.UniqueConstraint(condition=models.Q(('disabled_at__isnull', True)), fields=('school', 'merchant'), name='one_live_card_acceptance'),
        ),
        migrations.RunPython(schools_accept_their_own_merchants, migrations.RunPython.noop),
    ]
