"""Twilio's REST API, one module per resource, in twilio-python's tree.

::

    rest/
      base.py                 list, context, page and instance bases (one request path)
      domains.py              a base URL per Twilio domain; page URLs kept on them
      _values.py              parameters serialised and fields parsed as twilio-python does
      api/__init__.py         client.api (the 2010-04-01 version)
      api/v2010/messages.py   Messages (create is the typed C++ call), with
      api/v2010/media.py      ... its Media and
      api/v2010/feedback.py   ... its Feedback subresources
      api/v2010/accounts.py
      api/v2010/incoming_phone_numbers.py
      api/v2010/available_phone_numbers.py

Use them through :class:`twiliocore.Client` (``client.messages``, ``client.api.accounts``,
``client.incoming_phone_numbers``, ``client.available_phone_numbers("US").local``); the
modules load on first use, not at ``import twiliocore``.
"""
