"""The inbound pipeline: every inbound message and status callback, stored first, then handled.

Usage (workflow code registering a handler on a running service)::

    from twiliocore_api.services.inbound import InboundMessage

    def on_message(session, event: InboundMessage) -> None:
        ...

    app.state.messenger.inbound.register(InboundMessage, on_message)

:func:`default_pipeline` registers what every service runs: opt-out keywords on inbound
messages, delivery tracking on status updates.
"""

from __future__ import annotations

from twiliocore_api.services.inbound.events import (
    Channel,
    InboundMessage,
    InvalidWebhook,
    StatusUpdate,
    parse_inbound,
    parse_status,
)
from twiliocore_api.services.inbound.handlers import (
    OPT_IN_KEYWORDS,
    OPT_OUT_KEYWORDS,
    opt_out_keywords,
    track_deliveries,
    track_delivery,
)
from twiliocore_api.services.inbound.pipeline import (
    BatchHandler,
    Event,
    Handler,
    InboundPipeline,
    Receipt,
    status_receipt,
)

__all__ = [
    "OPT_IN_KEYWORDS",
    "OPT_OUT_KEYWORDS",
    "BatchHandler",
    "Channel",
    "Event",
    "Handler",
    "InboundMessage",
    "InboundPipeline",
    "InvalidWebhook",
    "Receipt",
    "StatusUpdate",
    "default_pipeline",
    "opt_out_keywords",
    "parse_inbound",
    "parse_status",
    "status_receipt",
    "track_deliveries",
    "track_delivery",
]


def default_pipeline() -> InboundPipeline:
    """A pipeline with the service's own handlers: opt-out keywords, delivery tracking."""
    pipeline = InboundPipeline()
    pipeline.register(InboundMessage, opt_out_keywords, name="opt-out keywords")
    pipeline.register(
        StatusUpdate, track_delivery, name="delivery tracking", batch=track_deliveries
    )
    return pipeline
