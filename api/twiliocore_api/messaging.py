"""The names workflow code and older imports use; the service layer lives in ``services/``.

:class:`Messenger` is the running service's
:class:`~twiliocore_api.services.config.MessagingRuntime` (configuration, mock mode, client,
inbound pipeline); bulk jobs are :mod:`twiliocore_api.services.bulk` on the job queue
(:mod:`twiliocore_api.worker`). Workflow code calls
:func:`~twiliocore_api.services.notify.notify_user`, importable from here as before.
"""

from __future__ import annotations

from twiliocore_api.services.config import EffectiveConfig, MessagingRuntime, MessengerUnavailable
from twiliocore_api.services.notify import notify_user

__all__ = ["EffectiveConfig", "Messenger", "MessengerUnavailable", "notify_user"]

#: The running service's messaging runtime (the name routes and tests have always used).
Messenger = MessagingRuntime
