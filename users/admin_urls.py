"""`/admin/login/`: the admin's login behind the per-account lockout. config/urls.py includes it before
`admin.site.urls`, so it answers that path.
"""

from django.urls import path

from users import views

app_name = "admin-login"

urlpatterns = [
    path("", views.admin_login, name="login"),
]
