from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("charges", "0002_fewer_indexes"),
    ]

    operations = [
        migrations.AlterField(
            model_name="refund",
            name="status",
            field=models.CharField(
                choices=[
                    ("SOLICITADO", "Solicitado"),
                    ("EM_PROCESSAMENTO", "Em processamento"),
                    ("DEVOLVIDO", "Devolvido"),
                    ("NAO_REALIZADO", "Não realizado"),
                ],
                default="SOLICITADO",
                max_length=20,
            ),
        ),
    ]
