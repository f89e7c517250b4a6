from django.db import migrations

# The recovery sweep now runs on the platform's scheduler (pagtracker/schedule.py): the row
# that kept its self-rescheduling task chain single goes, and so do that chain's queued tasks.
CHAIN_TASK = "webhooks.tasks.webhook_deliveries_recover_task"


def drop_queued_chain_tasks(apps, schema_editor):
    DBTaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
    DBTaskResult.objects.filter(task_path=CHAIN_TASK, status="READY").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0002_fewer_indexes"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [
        migrations.RunPython(drop_queued_chain_tasks, migrations.RunPython.noop),
        migrations.DeleteModel(name="WebhookSweep"),
    ]
