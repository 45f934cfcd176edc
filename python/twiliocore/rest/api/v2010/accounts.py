"""The Account resource: ``client.api.accounts`` (list, fetch) and ``client.api.account``.

``GET /2010-04-01/Accounts.json`` (filters ``FriendlyName``, ``Status``) and
``GET /2010-04-01/Accounts/{Sid}.json``. The auth token Twilio includes in an account's JSON
is dropped on arrival and never kept.
"""

from __future__ import annotations

from twiliocore.rest.base import ContextResource, FetchableInstance, Param, ReadableList, choice

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    from twiliocore.rest.api.v2010.available_phone_numbers import AvailablePhoneNumberCountryList
    from twiliocore.rest.api.v2010.incoming_phone_numbers import IncomingPhoneNumberList
    from twiliocore.rest.api.v2010.messages import MessageList

__all__ = ["AccountContext", "AccountInstance", "AccountList"]


class AccountInstance(FetchableInstance):
    """An Account resource (``sid``, ``friendly_name``, ``status``, ``type``, dates, ...).

    The account's auth token, which Twilio includes in the JSON, is dropped and never kept.
    """

    _hidden = ("auth_token",)

    sid: str | None
    friendly_name: str | None
    status: str | None
    type: str | None
    owner_account_sid: str | None
    subresource_uris: dict[str, str] | None


class AccountContext(ContextResource[AccountInstance]):
    """One account by sid: ``client.api.accounts(sid).fetch()`` and its resources."""

    _path = "/Accounts/{sid}.json"
    _instance = AccountInstance

    @property
    def messages(self) -> MessageList:
        """The account's Messages (``client.api.account.messages``, as in twilio-python).

        Raises:
            ValueError: ``sid`` is not the client's account (a Client addresses one account;
                create one with ``account_sid=`` for another).
        """
        if self.sid != self._client.account_sid:
            raise ValueError(
                f"sid: {self.sid} is not this client's account; create a Client with"
                " account_sid= to reach its messages"
            )
        return self._client.messages

    @property
    def incoming_phone_numbers(self) -> IncomingPhoneNumberList:
        """The account's phone numbers (:mod:`.incoming_phone_numbers`)."""
        from twiliocore.rest.api.v2010.incoming_phone_numbers import IncomingPhoneNumberList

        return IncomingPhoneNumberList(self._client, account_sid=self._solution["sid"])

    @property
    def available_phone_numbers(self) -> AvailablePhoneNumberCountryList:
        """Numbers the account can buy, by country (:mod:`.available_phone_numbers`)."""
        from twiliocore.rest.api.v2010.available_phone_numbers import (
            AvailablePhoneNumberCountryList,
        )

        return AvailablePhoneNumberCountryList(self._client, account_sid=self._solution["sid"])


AccountInstance._context = AccountContext


class AccountList(ReadableList[AccountInstance, AccountContext]):
    """``client.api.accounts``: list the accounts; call with a sid for one."""

    _path = "/Accounts.json"
    _key = "accounts"
    _instance = AccountInstance
    _context = AccountContext
    _filters = (
        Param("friendly_name", "FriendlyName"),
        Param("status", "Status", choice("active", "suspended", "closed")),
    )
