from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import permissions, status, viewsets
from rest_framework.response import Response

from coupons import services
from coupons.selectors import coupon_list
from coupons.serializers import CouponInputSerializer, CouponSerializer

STAFF_ERRORS = {
    400: OpenApiResponse(description="Invalid input: `{field: [message]}`."),
    401: OpenApiResponse(description="Not authenticated."),
    403: OpenApiResponse(description="Staff only."),
}


@extend_schema_view(
    list=extend_schema(tags=["coupons"], summary="List coupons (staff)"),
    retrieve=extend_schema(tags=["coupons"], summary="One coupon (staff)"),
    create=extend_schema(
        tags=["coupons"],
        summary="Create a coupon (staff)",
        request=CouponInputSerializer,
        responses={201: CouponSerializer, **STAFF_ERRORS},
    ),
    update=extend_schema(
        tags=["coupons"],
        summary="Replace a coupon (staff)",
        request=CouponInputSerializer,
        responses={200: CouponSerializer, **STAFF_ERRORS},
    ),
    partial_update=extend_schema(
        tags=["coupons"],
        summary="Change a coupon (staff)",
        request=CouponInputSerializer(partial=True),
        responses={200: CouponSerializer, **STAFF_ERRORS},
    ),
    destroy=extend_schema(
        tags=["coupons"],
        summary="Delete a coupon (staff)",
        description="A coupon that has been redeemed cannot be deleted (409); deactivate it instead.",
        responses={204: None, 401: STAFF_ERRORS[401], 403: STAFF_ERRORS[403], 409: OpenApiResponse()},
    ),
)
class CouponViewSet(viewsets.ModelViewSet):
    permission_classes = [permissions.IsAdminUser]
    serializer_class = CouponSerializer
    filterset_fields = ["is_active", "discount_type"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return coupon_list()

    def create(self, request, *args, **kwargs):
        data = CouponInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        coupon = services.coupon_create(data=data.validated_data)
        return Response(CouponSerializer(coupon_list().get(pk=coupon.pk)).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        coupon = self.get_object()
        data = CouponInputSerializer(data=request.data, partial=partial)
        data.is_valid(raise_exception=True)
        services.coupon_update(coupon=coupon, data=data.validated_data)
        return Response(CouponSerializer(coupon_list().get(pk=coupon.pk)).data)

    def destroy(self, request, *args, **kwargs):
        services.coupon_delete(coupon=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
