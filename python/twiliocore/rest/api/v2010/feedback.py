"""A message's Feedback subresource: ``client.messages(sid).feedback.create(outcome=...)``.

``POST /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Feedback.json`` with
``Outcome`` (the spec's ``message_feedback_enum_outcome``). Twilio uses it for messages sent
with ``provide_feedback=True`` (one-time codes: report ``confirmed`` once the code was
entered) to measure delivery per route.
"""

from __future__ import annotations

from twiliocore.rest.base import CreatableList, InstanceResource, Param, choice

__all__ = ["FeedbackInstance", "FeedbackList"]


class FeedbackInstance(InstanceResource):
    """The outcome reported for a message (``message_sid``, ``outcome``, ...).

    Attributes mirror the JSON fields, with ``date_created``/``date_updated`` as aware
    datetimes, as in twilio-python.
    """

    account_sid: str | None
    message_sid: str | None
    outcome: str | None

    def __repr__(self) -> str:
        return f"<twiliocore.FeedbackInstance {self.message_sid} outcome={self.outcome}>"


class FeedbackList(CreatableList[FeedbackInstance, None]):
    """``client.messages(sid).feedback``: ``create(outcome="confirmed" | "unconfirmed")``."""

    _path = "/Accounts/{account_sid}/Messages/{message_sid}/Feedback.json"
    _instance = FeedbackInstance
    _create = (Param("outcome", "Outcome", choice("confirmed", "unconfirmed")),)

    @property
    def message_sid(self) -> str:
        """The message the feedback is about."""
        return self._solution["message_sid"]
