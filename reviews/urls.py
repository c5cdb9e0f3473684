from rest_framework.routers import SimpleRouter

from reviews.views import ReviewViewSet

app_name = "reviews"

router = SimpleRouter()
router.register("", ReviewViewSet, basename="review")

urlpatterns = router.urls
