"""Thin views: validate input, call one service, serialize the result."""

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.permissions import IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.response import Response

from reviews import selectors, services
from reviews.filters import ReviewFilter
from reviews.models import Review
from reviews.serializers import ReviewCreateInputSerializer, ReviewSerializer, ReviewUpdateInputSerializer

NOT_YOURS = OpenApiResponse(description="Not your review (or, for is_visible, not staff).")
NOT_FOUND = OpenApiResponse(description="No such review, or it is hidden and you are not staff.")


@extend_schema_view(
    list=extend_schema(summary="Reviews (visible ones; staff see all)"),
    retrieve=extend_schema(
        summary="One review (a hidden one is a 404 except for staff)", responses={200: ReviewSerializer, 404: NOT_FOUND}
    ),
    create=extend_schema(
        summary="Review a product you bought",
        request=ReviewCreateInputSerializer,
        responses={
            201: ReviewSerializer,
            400: OpenApiResponse(description="Invalid input, or an unknown or inactive product."),
            403: OpenApiResponse(description="No paid, processing, shipped or delivered order of yours has it."),
            409: OpenApiResponse(description="You have already reviewed this product."),
        },
    ),
    partial_update=extend_schema(
        summary="Edit your review (staff: any review, and moderate it with is_visible)",
        request=ReviewUpdateInputSerializer,
        responses={200: ReviewSerializer, 403: NOT_YOURS, 404: NOT_FOUND},
    ),
    destroy=extend_schema(
        summary="Delete your review (staff: any review)", responses={204: None, 403: NOT_YOURS, 404: NOT_FOUND}
    ),
)
@extend_schema(tags=["reviews"])
class ReviewViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    serializer_class = ReviewSerializer
    permission_classes = (IsAuthenticatedOrReadOnly,)
    filterset_class = ReviewFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_queryset(self) -> QuerySet[Review]:
        if getattr(self, "swagger_fake_view", False):
            return Review.objects.none()
        return selectors.review_list_for(user=self.request.user)

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = ReviewCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        review = services.review_create(
            user=request.user,
            product_id=data["product"],
            rating=data["rating"],
            title=data["title"],
            body=data["body"],
        )
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        review = self.get_object()
        serializer = ReviewUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        review = services.review_update(review=review, actor=request.user, data=serializer.validated_data)
        return Response(ReviewSerializer(review).data)

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        services.review_delete(review=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
