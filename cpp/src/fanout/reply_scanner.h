#pragma once

/// @file
/// What Twilio's answers mean to a bulk job: a create's reply read into a `CreateOutcome` (on
/// success only its `sid` and `status`, scanned without parsing the ~850-byte Message JSON, on
/// the engine thread for every message), and a list's reply into a `ListOutcome`.

#include <string_view>

#include "twiliocore/fanout.h"
#include "twiliocore/http_engine.h"
#include "twiliocore/twilio_client.h"

namespace twiliocore::internal {

/// The `sid` and `status` string values of a created Message's JSON, read without parsing it;
/// false when either is not a plain top-level `"key": "value"` (the caller then parses fully).
/// The views point into `json`.
bool ScanSidAndStatus(std::string_view json, std::string_view& sid, std::string_view& status);

/// Writes what a create answer means for the job into `out`, reusing its strings' buffers (so
/// that a ring slot refilled for every message allocates nothing once warm): a 2xx answer's
/// `sid` and `status` scanned from the body, anything else interpreted in full.
void ReadCreateOutcome(http::Response&& response, CreateOutcome& out);

/// `ReadCreateOutcome` into a new outcome.
[[nodiscard]] CreateOutcome CreateOutcomeOf(http::Response&& response);

/// The messages of a GET Messages.json page, or the error that replaced them (an answer
/// without a `messages` array is an API error).
[[nodiscard]] ListOutcome ListOutcomeOf(ApiResult&& result);

}  // namespace twiliocore::internal
