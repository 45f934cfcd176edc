"""The Twilio settings stored through the API (one row; the auth token encrypted)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from twiliocore_api.models import SmsSettings, utcnow

__all__ = ["delete_sms_settings", "get_sms_settings", "save_sms_settings"]


def get_sms_settings(session: Session) -> SmsSettings | None:
    """The stored Twilio settings row, if any."""
    return session.get(SmsSettings, 1)


def save_sms_settings(
    session: Session,
    *,
    account_sid: str,
    auth_token_encrypted: str,
    phone_number: str | None,
    whatsapp_number: str | None,
    user_id: int | None,
) -> SmsSettings:
    """Create or replace the settings row and commit (the token already encrypted)."""
    row = get_sms_settings(session)
    if row is None:
        row = SmsSettings(id=1, account_sid=account_sid, auth_token_encrypted=auth_token_encrypted)
        session.add(row)
    row.account_sid = account_sid
    row.auth_token_encrypted = auth_token_encrypted
    row.phone_number = phone_number
    row.whatsapp_number = whatsapp_number
    row.updated_by = user_id
    row.updated_at = utcnow()
    session.commit()
    return row


def delete_sms_settings(session: Session) -> bool:
    """Remove the stored settings row and commit; ``False`` when there was none."""
    row = get_sms_settings(session)
    if row is None:
        return False
    session.delete(row)
    session.commit()
    return True
