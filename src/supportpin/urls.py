from django.urls import include, path

from supportpin.api.main import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("supportpin.web.urls")),
]

handler404 = "supportpin.web.pages.page_not_found"
handler500 = "supportpin.web.pages.server_error"
handler403 = "supportpin.web.pages.permission_denied"
