"""Generic write helpers that every app's services use."""

from collections.abc import Iterable
from typing import Any, TypeVar

from django.db import models

from config.exceptions import InvalidInput

M = TypeVar("M", bound=models.Model)


def model_update(*, instance: M, fields: Iterable[str], data: dict[str, Any], error=InvalidInput) -> tuple[M, bool]:
    """Set the allowed `fields` of `instance` from `data` and save only what changed.

    A key of `data` outside `fields` raises `error` (400) naming it, so a caller cannot write a column
    it was not meant to. Foreign keys may be given as instances. `updated_at` is saved along when the
    model has it. Returns the instance and whether anything was written.
    """
    allowed = set(fields)
    unknown = set(data) - allowed
    if unknown:
        name = instance._meta.verbose_name
        raise error(f"Unknown {name} fields: {', '.join(sorted(unknown))}.")
    changed = []
    for field_name, value in data.items():
        field = instance._meta.get_field(field_name)
        if getattr(instance, field_name) != value:
            setattr(instance, field_name, value)
            changed.append(field.attname if field.is_relation else field_name)
    if not changed:
        return instance, False
    if any(f.name == "updated_at" for f in instance._meta.concrete_fields):
        changed.append("updated_at")
    instance.save(update_fields=changed)
    return instance, True
