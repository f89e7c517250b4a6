"""Charge events stored money as reais (floats) in ``data["valor"]``; they now store integer
centavos in ``data["amount_cents"]``, like every other money field."""

from decimal import Decimal

from django.db import migrations


def reais_to_centavos(apps, schema_editor):
    ChargeEvent = apps.get_model("charges", "ChargeEvent")
    changed = []
    for event in ChargeEvent.objects.filter(data__has_key="valor").iterator(chunk_size=2000):
        data = dict(event.data)
        # Through the decimal text of the float, so 100.1 becomes 10010, not 10009.
        data["amount_cents"] = int(Decimal(str(data.pop("valor"))) * 100)
        event.data = data
        changed.append(event)
        if len(changed) >= 2000:
            ChargeEvent.objects.bulk_update(changed, ["data"])
            changed.clear()
    ChargeEvent.objects.bulk_update(changed, ["data"])


class Migration(migrations.Migration):
    dependencies = [
        ("charges", "0003_refund_requested"),
    ]

    operations = [
        migrations.RunPython(reais_to_centavos, migrations.RunPython.noop, elidable=True),
    ]
