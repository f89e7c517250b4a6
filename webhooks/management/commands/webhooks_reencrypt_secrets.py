"""``manage.py webhooks_reencrypt_secrets``: after putting a new key first in
``FIELD_ENCRYPTION_KEYS``, move every stored webhook secret to it (then the old key can go)."""

from typing import Any

from django.core.management.base import BaseCommand

from webhooks import services


class Command(BaseCommand):
    help = "Re-encrypt every webhook signing secret under the newest FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args: Any, **options: Any) -> None:
        count = services.webhook_endpoint_secrets_reencrypt()
        self.stdout.write(f"{count} webhook secret(s) re-encrypted.")
