from rest_framework.pagination import PageNumberPagination as BasePageNumberPagination


class PageNumberPagination(BasePageNumberPagination):
    """`?page=N&page_size=N`: 20 by default, at most 100."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
