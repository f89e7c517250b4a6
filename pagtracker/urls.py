from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from pagtracker.api.views import (
    BenchBareDrfView,
    HealthView,
    RootView,
    api_not_found,
    bench_bare_view,
)

api_patterns = [
    path("", include("pagtracker.accounts.urls")),
    path("", include("charges.urls")),
    path("", include("webhooks.urls")),
    path("", include("realtime.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

urlpatterns = [
    path("", RootView.as_view(), name="root"),
    path("health", HealthView.as_view(), name="health"),
    path("admin/", admin.site.urls),
    path("", include("charges.page_urls")),
    path("api/", include(api_patterns)),
    re_path(r"^api/.*$", api_not_found),
]

if settings.BENCH_BARE_VIEW:
    urlpatterns.append(path("bench/bare", bench_bare_view))
    urlpatterns.append(path("bench/bare-drf", BenchBareDrfView.as_view()))
