"""The api domain: ``client.api`` (version 2010-04-01, as ``client.api.v2010``)."""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (see _types)
if TYPE_CHECKING:
    from twiliocore.client import Client
    from twiliocore.rest.api.v2010.accounts import AccountContext, AccountList
    from twiliocore.rest.api.v2010.available_phone_numbers import AvailablePhoneNumberCountryList
    from twiliocore.rest.api.v2010.incoming_phone_numbers import IncomingPhoneNumberList
    from twiliocore.rest.api.v2010.messages import MessageList

__all__ = ["Api"]


class Api:
    """``client.api``: the 2010-04-01 API (``accounts``, ``account`` and the account's lists).

    The account's lists (``messages``, ``incoming_phone_numbers``,
    ``available_phone_numbers``) are the client's account's, as in twilio-python.
    """

    def __init__(self, client: Client) -> None:
        self._client = client

    @property
    def accounts(self) -> AccountList:
        """All accounts the credentials reach: ``list()``; call with a sid for one."""
        from twiliocore.rest.api.v2010.accounts import AccountList

        return AccountList(self._client)

    @property
    def account(self) -> AccountContext:
        """The client's own account."""
        return self.accounts(self._client.account_sid)

    @property
    def messages(self) -> MessageList:
        """The account's Messages (``client.messages``)."""
        return self._client.messages

    @property
    def incoming_phone_numbers(self) -> IncomingPhoneNumberList:
        """The account's phone numbers (``client.incoming_phone_numbers``)."""
        return self.account.incoming_phone_numbers

    @property
    def available_phone_numbers(self) -> AvailablePhoneNumberCountryList:
        """Numbers the account can buy (``client.available_phone_numbers``)."""
        return self.account.available_phone_numbers

    @property
    def v2010(self) -> Api:
        """The 2010-04-01 version, spelled as in twilio-python (``client.api.v2010.account``)."""
        return self
