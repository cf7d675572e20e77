from django.urls import path
from django.views.generic import RedirectView

from supportpin.api.main import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", RedirectView.as_view(url="/api/v1/docs", permanent=False)),
]
