from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request


class JsonOnlyNegotiation(DefaultContentNegotiation):
    """The API speaks JSON only: a view with a single renderer skips parsing the Accept header
    (a measurable share of a small request). Views with several renderers, such as the
    OpenAPI schema's JSON/YAML, negotiate as usual."""

    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> Any:
        if len(renderers) == 1 and not format_suffix:
            return renderers[0], renderers[0].media_type
        return super().select_renderer(request, renderers, format_suffix)
