from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0003_fewer_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="ledgerentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("payment_in", "Pagamento recebido"),
                    ("refund_out", "Devolução"),
                    ("refund_reversal", "Devolução não realizada"),
                    ("payout_out", "Pagamento enviado"),
                    ("split_out", "Repasse de split"),
                ],
                max_length=20,
            ),
        ),
    ]
