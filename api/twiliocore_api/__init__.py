"""twiliocore's REST service: SMS & WhatsApp routes, auth, persistence and webhooks.

Run it with ``twiliocore serve`` (installed with ``pip install 'twiliocore[api]'``) or
build the ASGI app yourself::

    from twiliocore_api.main import create_app

    app = create_app()

The service uses only twiliocore's public Python API.
"""

from __future__ import annotations

__all__: list[str] = []
