"""Notifications and outbound webhooks leave guardians for core (core/migrations/0002): state only."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('guardians', '0003_outbound_webhooks'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='notificationpreference',
                    name='user',
                ),
                migrations.RemoveField(
                    model_name='webhookdelivery',
                    name='event',
                ),
                migrations.RemoveField(
                    model_name='webhookdelivery',
                    name='subscription',
                ),
                migrations.RemoveField(
                    model_name='webhookdeliveryattempt',
                    name='delivery',
                ),
                migrations.RemoveField(
                    model_name='webhookevent',
                    name='school',
                ),
                migrations.RemoveField(
                    model_name='webhooksubscription',
                    name='created_by',
                ),
                migrations.RemoveField(
                    model_name='webhooksubscription',
                    name='school',
                ),
                migrations.DeleteModel(
                    name='Notification',
                ),
                migrations.DeleteModel(
                    name='NotificationPreference',
                ),
                migrations.DeleteModel(
                    name='WebhookDelivery',
                ),
                migrations.DeleteModel(
                    name='WebhookDeliveryAttempt',
                ),
                migrations.DeleteModel(
                    name='WebhookEvent',
                ),
                migrations.DeleteModel(
                    name='WebhookSubscription',
                ),
            ],
        ),
    ]
