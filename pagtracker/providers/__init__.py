from .base import PixProvider, ProviderCharge, ProviderRefund, provider_for

__all__ = ["PixProvider", "ProviderCharge", "ProviderRefund", "provider_for"]
