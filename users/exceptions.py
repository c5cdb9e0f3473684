"""Domain errors of the users app; `config.exceptions.exception_handler` maps them to HTTP."""

from collections.abc import Iterable

from config.exceptions import InvalidInput


class EmailAlreadyRegistered(InvalidInput):
    default_message = "A user with this email address already exists."

    def __init__(self, message: str | None = None):
        super().__init__(message, field="email")


class WeakPassword(InvalidInput):
    """Django's password validators refused a password; carries every message they gave."""

    default_message = "This password is too weak."

    def __init__(self, messages: Iterable[str], *, field: str):
        self.messages = list(messages) or [self.default_message]
        super().__init__(" ".join(self.messages), field=field)

    def as_response_data(self) -> dict:
        return {self.field: self.messages}


class WrongPassword(InvalidInput):
    default_message = "Your current password is incorrect."

    def __init__(self, message: str | None = None):
        super().__init__(message, field="old_password")


class InvalidResetLink(InvalidInput):
    default_message = "The password reset link is invalid or has expired."


class InvalidRefreshToken(InvalidInput):
    def __init__(self, message: str):
        super().__init__(message, field="refresh")
