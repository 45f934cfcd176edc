"""``twiliocore send``: send one SMS or WhatsApp message from the command line.

Credentials and senders come from the environment (``TWILIO_ACCOUNT_SID``,
``TWILIO_AUTH_TOKEN``, ``TWILIO_PHONE_NUMBER``, ``TWILIO_WHATSAPP_NUMBER``,
``TWILIO_API_BASE_URL``); the result is printed as JSON. Exit status 0 on success,
1 when the send failed, 2 on missing configuration.
"""

from __future__ import annotations

import argparse
import json
import sys

from twiliocore.errors import ConfigurationError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``send`` options on ``parser``."""
    parser.add_argument("--to", required=True, help="recipient, any common notation")
    parser.add_argument("--body", required=True, help="message text")
    parser.add_argument("--whatsapp", action="store_true", help="send through WhatsApp")
    parser.add_argument(
        "--from", dest="from_number", help="SMS sender (default TWILIO_PHONE_NUMBER)"
    )
    parser.add_argument("--media-url", action="append", default=None, help="media URL (repeatable)")
    parser.add_argument("--base-url", help="API root (default TWILIO_API_BASE_URL or Twilio's)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")


def run(args: argparse.Namespace) -> int:
    """Send the message described by ``args``; print the result as JSON."""
    from twiliocore.sms import SMSService

    try:
        with SMSService(base_url=args.base_url, timeout=args.timeout) as service:
            if args.whatsapp:
                if args.from_number:
                    print("twiliocore send: --from is ignored with --whatsapp", file=sys.stderr)
                result = service.send_whatsapp(args.to, args.body, media_url=args.media_url)
            else:
                result = service.send_sms(
                    args.to, args.body, from_number=args.from_number, media_url=args.media_url
                )
    except ConfigurationError as exc:
        print(f"twiliocore send: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, default=str))
    return 0 if result["success"] else 1
