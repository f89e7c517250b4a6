from django.urls import path

from . import apis

# Included under /api/ by pagtracker/urls.py.
urlpatterns = [
    path("webhooks", apis.WebhookListCreateView.as_view()),
    path("webhooks/<uuid:webhook_id>", apis.WebhookDetailView.as_view()),
    path("webhooks/<uuid:webhook_id>/test", apis.WebhookTestView.as_view()),
]
