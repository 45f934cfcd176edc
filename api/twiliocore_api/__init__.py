"""twiliocore's REST service: SMS & WhatsApp routes, auth, persistence and webhooks.

Run it with ``twiliocore serve`` (installed with ``pip install 'twiliocore[api]'``) or
build the ASGI app yourself, after the prestart step (migrations, the first admin)::

    from twiliocore_api.main import create_app
    from twiliocore_api.prestart import prestart

    prestart()
    app = create_app()

The service uses only twiliocore's public Python API.
"""

from __future__ import annotations

__all__: list[str] = []
