from django.urls import path

from . import apis

# Included under /api/ by pagtracker/urls.py.
urlpatterns = [
    path("realtime/tickets", apis.TicketCreateView.as_view()),
    path("server/status", apis.ServerStatusView.as_view()),
    path("message/room/<str:room_id>/broadcast", apis.RoomBroadcastView.as_view()),
]
