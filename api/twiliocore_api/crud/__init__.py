"""Data access, one module per entity: keyword-only functions taking the session first.

Everything is re-exported here, so ``from twiliocore_api import crud;
crud.get_bulk_job(session, job_id=...)`` reads as before the split. No business rule
lives in this package: status ordering is :mod:`twiliocore_api.services.status`, opt-out
keywords are the inbound pipeline's (:mod:`twiliocore_api.services.inbound`).
"""

from __future__ import annotations

from twiliocore_api.crud._common import is_storable
from twiliocore_api.crud.bulk_jobs import (
    add_bulk_invalid,
    add_recipients,
    bulk_job_sender,
    bulk_jobs_without_queue_entry,
    count_created,
    count_recipients,
    finish_bulk_job,
    get_bulk_job,
    get_recipient,
    list_bulk_invalid,
    list_recipients,
    pending_recipient_ids,
    pending_recipients,
    record_recipient_failures,
    record_recipient_sids,
    recorded_sids,
    set_bulk_job_status,
    set_submitted_through,
    sids_with_status_events,
)
from twiliocore_api.crud.health import ping
from twiliocore_api.crud.jobs import (
    EXPIRED_ERROR,
    ExpiredJob,
    claim_jobs,
    complete_job,
    enqueue_job,
    extend_lease,
    fail_job,
    get_job,
    release_job,
    requeue_expired,
)
from twiliocore_api.crud.messages import (
    create_message,
    get_message_by_sid,
    list_messages,
    mark_lost_sends,
)
from twiliocore_api.crud.notifications import create_notification, list_notifications
from twiliocore_api.crud.opt_outs import is_opted_out, opted_out_among, set_opt_out
from twiliocore_api.crud.settings import delete_sms_settings, get_sms_settings, save_sms_settings
from twiliocore_api.crud.status_events import (
    StatusReceipt,
    add_status_event,
    append_status_events,
    list_status_events,
    mark_status_events_applied,
    pending_status_events,
    receipt_key,
    store_status_event,
)
from twiliocore_api.crud.users import (
    UserChanges,
    active_admin_ids,
    authenticate,
    create_user,
    delete_user,
    get_user,
    get_user_by_email,
    list_users,
    set_password,
    update_preferences,
    update_user,
)
from twiliocore_api.crud.webhooks import claim_webhook_token, claim_webhook_tokens

__all__ = [
    "active_admin_ids",
    "add_bulk_invalid",
    "add_recipients",
    "add_status_event",
    "append_status_events",
    "authenticate",
    "bulk_job_sender",
    "bulk_jobs_without_queue_entry",
    "claim_jobs",
    "claim_webhook_token",
    "claim_webhook_tokens",
    "complete_job",
    "count_created",
    "count_recipients",
    "create_message",
    "create_notification",
    "create_user",
    "delete_sms_settings",
    "delete_user",
    "enqueue_job",
    "EXPIRED_ERROR",
    "ExpiredJob",
    "extend_lease",
    "fail_job",
    "finish_bulk_job",
    "get_bulk_job",
    "get_job",
    "get_message_by_sid",
    "get_recipient",
    "get_sms_settings",
    "get_user",
    "get_user_by_email",
    "is_opted_out",
    "is_storable",
    "list_bulk_invalid",
    "list_messages",
    "list_notifications",
    "list_recipients",
    "list_status_events",
    "list_users",
    "mark_lost_sends",
    "mark_status_events_applied",
    "opted_out_among",
    "pending_recipient_ids",
    "pending_recipients",
    "pending_status_events",
    "ping",
    "receipt_key",
    "record_recipient_failures",
    "record_recipient_sids",
    "recorded_sids",
    "release_job",
    "requeue_expired",
    "save_sms_settings",
    "set_bulk_job_status",
    "set_opt_out",
    "set_password",
    "set_submitted_through",
    "sids_with_status_events",
    "StatusReceipt",
    "store_status_event",
    "update_preferences",
    "update_user",
    "UserChanges",
]
