from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from charges import urls as charges_urls
from pagtracker.accounts import urls as accounts_urls
from pagtracker.api.views import (
    BenchBareDrfView,
    HealthView,
    RootView,
    api_not_found,
    bench_bare_view,
)
from realtime import urls as realtime_urls
from webhooks import urls as webhooks_urls

# One flat list under /api/: every app's API routes are matched by one resolver, not a
# resolver per app (a nested include costs a ResolverMatch and a failed search per level).
api_patterns = [
    *accounts_urls.urlpatterns,
    *charges_urls.urlpatterns,
    *webhooks_urls.urlpatterns,
    *realtime_urls.urlpatterns,
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

urlpatterns = [
    path("", RootView.as_view(), name="root"),
    path("health", HealthView.as_view(), name="health"),
    path("api/", include(api_patterns)),
    re_path(r"^api/.*$", api_not_found),
    path("pay/", include("charges.page_urls")),
    path("admin/", admin.site.urls),
]

if settings.BENCH_BARE_VIEW:
    urlpatterns.append(path("bench/bare", bench_bare_view))
    urlpatterns.append(path("bench/bare-drf", BenchBareDrfView.as_view()))
