import uuid
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone


class Plan(models.TextChoices):
    BASICO = "basico", "Básico"
    PROFISSIONAL = "profissional", "Profissional"
    EMPRESARIAL = "empresarial", "Empresarial"


class ProviderName(models.TextChoices):
    SANDBOX = "sandbox", "Sandbox"
    EFI = "efi", "Efí"


class Merchant(models.Model):
    """The receiving business: every charge, payout, split and webhook belongs to one."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    nome = models.CharField(max_length=200, blank=True)
    empresa = models.CharField(max_length=200, blank=True)
    plano = models.CharField(max_length=20, choices=Plan.choices, default=Plan.BASICO)
    chave_pix = models.CharField(max_length=77, blank=True)
    cidade = models.CharField(max_length=60, blank=True)
    provider = models.CharField(
        max_length=20, choices=ProviderName.choices, default=ProviderName.SANDBOX
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "lojista"
        verbose_name_plural = "lojistas"

    def __str__(self) -> str:
        return self.empresa or self.nome or str(self.id)

    @property
    def receiver_name(self) -> str:
        return self.empresa or self.nome or "PagTracker"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: object) -> "User":
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self.db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> "User":
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in. ``merchant`` set: a merchant's staff (API and scoped admin);
    ``merchant`` empty and ``is_staff``: back-office, who see every merchant."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(unique=True)
    nome = models.CharField(max_length=200, blank=True)
    merchant = models.ForeignKey(
        Merchant, null=True, blank=True, on_delete=models.CASCADE, related_name="users"
    )
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = "usuário"
        verbose_name_plural = "usuários"

    def __str__(self) -> str:
        return self.email

    @property
    def is_back_office(self) -> bool:
        return self.is_active and self.is_staff and (self.is_superuser or self.merchant_id is None)


class ApiKey(models.Model):
    """A merchant's API key. Only its SHA-256 is stored: the keys are 256-bit random, so a
    fast hash is as safe as a slow one and costs one indexed lookup per request."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="api_keys")
    created_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    descricao = models.CharField(max_length=200, blank=True)
    prefix = models.CharField(max_length=16, help_text="The first characters, for recognition.")
    key_hash = models.CharField(max_length=64, unique=True)
    livemode = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "chave de API"
        verbose_name_plural = "chaves de API"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.descricao})" if self.descricao else f"{self.prefix}…"

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now


class PspCredential(models.Model):
    """A merchant's credentials at a PSP (Efí today). Secrets are Fernet-encrypted at rest
    (``pagtracker.crypto``) and never returned by the API."""

    merchant = models.OneToOneField(
        Merchant, on_delete=models.CASCADE, related_name="psp_credential"
    )
    provider = models.CharField(max_length=20, choices=ProviderName.choices)
    client_id_encrypted = models.TextField()
    client_secret_encrypted = models.TextField()
    certificate_encrypted = models.TextField(blank=True)
    pix_key = models.CharField(max_length=77)
    sandbox = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "credencial de PSP"
        verbose_name_plural = "credenciais de PSP"

    def __str__(self) -> str:
        return f"{self.get_provider_display()} ({'sandbox' if self.sandbox else 'produção'})"
