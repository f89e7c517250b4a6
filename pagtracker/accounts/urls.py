from django.urls import path

from . import apis

urlpatterns = [
    path("auth/token", apis.TokenView.as_view()),
    path("auth/token/api-key", apis.ApiKeyTokenView.as_view()),
    path("auth/token/refresh", apis.TokenRefreshView.as_view()),
    path("users/me", apis.MeView.as_view()),
    path("users/me/api-keys", apis.ApiKeyListCreateView.as_view()),
    path("users/me/api-keys/<uuid:api_key_id>", apis.ApiKeyDetailView.as_view()),
    path("users/me/credentials/gerencianet", apis.GerencianetCredentialsView.as_view()),
]
