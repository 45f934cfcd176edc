"""The service layer: the rules between the routes and the data access.

Routes parse, authorize, call one function here and shape the answer; these modules take
typed values and a session (never a ``Request``) and reach the database through
:mod:`twiliocore_api.crud` and Twilio through twiliocore's public API.

- :mod:`~twiliocore_api.services.config`: the configuration in force, mock mode and the
  runtime object of a running service (:class:`~twiliocore_api.services.config.MessagingRuntime`).
- :mod:`~twiliocore_api.services.sends`: single sends.
- :mod:`~twiliocore_api.services.status`: status tracking (forward only).
- :mod:`~twiliocore_api.services.notify`: ``notify_user``.
- :mod:`~twiliocore_api.services.bulk`: bulk jobs, recorded first, run by the job queue's
  worker (:mod:`twiliocore_api.worker`) and resumed after a crash without sending twice.
- :mod:`~twiliocore_api.services.users`: user changes that keep an active admin, passwords.
- :mod:`~twiliocore_api.services.inbound`: the inbound pipeline.
"""
