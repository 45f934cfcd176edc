"""``twiliocore send``: send one SMS or WhatsApp message from the command line.

The account comes from ``--account-sid``/``--auth-token`` or ``TWILIO_ACCOUNT_SID``/
``TWILIO_AUTH_TOKEN``, the sender from ``--from`` or ``TWILIO_PHONE_NUMBER`` (with
``--whatsapp``: ``TWILIO_WHATSAPP_NUMBER``), the API root from ``--base-url`` or
``TWILIO_API_BASE_URL``; the result is printed as JSON. Exit status 0 on success, 1 when
the send failed, 2 on missing configuration.
"""

from __future__ import annotations

import argparse
import json
import os

from twiliocore._cli import CommandError, add_account_options, credentials_from, guarded

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the ``send`` options on ``parser``."""
    parser.add_argument("--to", required=True, help="recipient, any common notation")
    parser.add_argument("--body", required=True, help="message text")
    parser.add_argument("--whatsapp", action="store_true", help="send through WhatsApp")
    parser.add_argument(
        "--from",
        dest="from_number",
        help="sender (default TWILIO_PHONE_NUMBER, or TWILIO_WHATSAPP_NUMBER with --whatsapp)",
    )
    parser.add_argument("--media-url", action="append", default=None, help="media URL (repeatable)")
    add_account_options(parser)


def run(args: argparse.Namespace) -> int:
    """Send the message described by ``args``; print the result as JSON."""
    from twiliocore.sms import SMSService

    def send() -> int:
        account_sid, auth_token = credentials_from(args)
        variable = "TWILIO_WHATSAPP_NUMBER" if args.whatsapp else "TWILIO_PHONE_NUMBER"
        if not args.from_number and not os.environ.get(variable):
            kind = "WhatsApp" if args.whatsapp else "SMS"
            raise CommandError(f"no {kind} sender: pass --from or set {variable}")
        with SMSService(
            account_sid,
            auth_token,
            whatsapp_number=args.from_number if args.whatsapp else None,
            base_url=args.base_url,
            timeout=args.timeout,
        ) as service:
            if args.whatsapp:
                result = service.send_whatsapp(args.to, args.body, media_url=args.media_url)
            else:
                result = service.send_sms(
                    args.to, args.body, from_number=args.from_number, media_url=args.media_url
                )
        print(json.dumps(result, indent=2, default=str))
        return 0 if result["success"] else 1

    return guarded("send", send)
