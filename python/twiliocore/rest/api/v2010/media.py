"""A message's Media subresource: ``client.messages(sid).media`` (list, fetch, delete).

``GET/DELETE /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{Sid}.json`` and
the list ``Media.json`` with ``DateCreated``, ``DateCreated<``, ``DateCreated>``.
"""

from __future__ import annotations

from twiliocore.rest.base import (
    DeletableContext,
    DeletableInstance,
    Page,
    Param,
    ReadableList,
    date,
)

__all__ = ["MediaContext", "MediaInstance", "MediaList", "MediaPage"]

_MEDIA = "/Accounts/{account_sid}/Messages/{message_sid}/Media"


class MediaInstance(DeletableInstance):
    """A Media resource of a message (``sid``, ``parent_sid``, ``content_type``, ...).

    Attributes mirror the JSON fields, with ``date_created``/``date_updated`` as aware
    datetimes, as in twilio-python.
    """

    sid: str | None
    account_sid: str | None
    parent_sid: str | None
    content_type: str | None


class MediaContext(DeletableContext[MediaInstance]):
    """One media item: ``client.messages(sid).media(media_sid).fetch() / .delete()``."""

    _path = _MEDIA + "/{sid}.json"
    _instance = MediaInstance

    @property
    def message_sid(self) -> str:
        """The message the item belongs to."""
        return self._solution["message_sid"]


MediaInstance._context = MediaContext


class MediaPage(Page[MediaInstance]):
    """A page of a message's media (twilio-python's ``MediaPage``); yields MediaInstance."""


class MediaList(ReadableList[MediaInstance, MediaContext]):
    """``client.messages(sid).media``: list, stream and page a message's media; call with a sid.

    Filters: ``date_created``, ``date_created_before``, ``date_created_after`` (a date, a
    datetime's GMT date or ``YYYY-MM-DD``).
    """

    _path = _MEDIA + ".json"
    _key = "media_list"
    _instance = MediaInstance
    _context = MediaContext
    _page = MediaPage
    _filters = (
        Param("date_created", "DateCreated", date),
        Param("date_created_before", "DateCreated<", date),
        Param("date_created_after", "DateCreated>", date),
    )

    @property
    def message_sid(self) -> str:
        """The message whose media this is."""
        return self._solution["message_sid"]
