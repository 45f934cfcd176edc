// Exception translation, in one place: C++ errors of the core -> twiliocore.errors.
//
//   twiliocore::ApiError                 -> TwilioRestError(status, uri, msg, code, method,
//                                                           details, more_info, message=, url=)
//   twiliocore::TransportError  kTimeout -> ConnectTimeout (connect stage) / Timeout
//                               kTls     -> TLSError
//                               other    -> TransportError (url, stage)
//   twiliocore::CancelledError           -> Cancelled
//   twiliocore::InvalidPhoneNumber       -> InvalidPhoneNumber(number, reason)
//
// The Python classes are imported lazily (twiliocore.errors imports the package, which
// imports _core) and cached with gil_safe_call_once_and_store. Fully built instances are
// raised with py::set_error(type, instance) so status/code/more_info survive.
//
// _core._test: one trigger per translator branch, for tests/python/test_errors.py.

#include <pybind11/gil_safe_call_once.h>
#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>

#include "bindings.h"
#include "py_bridge.h"
#include "twiliocore/error.h"

namespace py = pybind11;

namespace twiliocore::bindings {
namespace {

py::module_& ErrorsModule() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::module_> storage;
  return storage
      .call_once_and_store_result([] { return py::module_::import("twiliocore.errors"); })
      .get_stored();
}

const char* StageName(TransportStage stage) {
  switch (stage) {
    case TransportStage::kResolve: return "resolve";
    case TransportStage::kConnect: return "connect";
    case TransportStage::kTls: return "tls";
    case TransportStage::kSend: return "send";
    case TransportStage::kReceive: return "receive";
    case TransportStage::kNone: break;
  }
  return "";
}

py::object OptionalString(const std::string& s) {
  return s.empty() ? py::none() : py::object(py::str(s));
}

void Raise(const py::object& instance) { py::set_error(py::type::of(instance), instance); }

// --- _test triggers ---------------------------------------------------------------------

Error MakeError(ErrorCategory category, TransportStage stage, const std::string& message) {
  Error e;
  e.category = category;
  e.stage = stage;
  e.message = message;
  e.url = "http://127.0.0.1:1/2010-04-01/Accounts.json";
  e.method = "GET";
  return e;
}

TransportStage StageFromName(const std::string& name) {
  if (name == "resolve") return TransportStage::kResolve;
  if (name == "connect") return TransportStage::kConnect;
  if (name == "tls") return TransportStage::kTls;
  if (name == "send") return TransportStage::kSend;
  if (name == "receive") return TransportStage::kReceive;
  throw std::invalid_argument("stage: unknown stage '" + name + "'");
}

}  // namespace

py::object ErrorToPython(const Error& error) {
  py::module_& errors = ErrorsModule();
  switch (error.category) {
    case ErrorCategory::kApi: {
      // As twilio-python: `details` is the error body's own "details" member, when it has one,
      // and `msg` its "message" member ("" when the body has none: the facade then says only
      // what failed). `message` keeps the core's description, which also covers other answers.
      py::object details = py::none();
      std::string twilio_message;
      if (!error.details.empty()) {
        const nlohmann::json parsed = nlohmann::json::parse(error.details, nullptr, false);
        if (parsed.is_object()) {
          if (const auto member = parsed.find("details");
              member != parsed.end() && !member->is_null()) {
            details = JsonToPython(*member);
          }
          if (const auto member = parsed.find("message");
              member != parsed.end() && member->is_string()) {
            twilio_message = member->get<std::string>();
          }
        }
      }
      py::object code = error.twilio_code != 0 ? py::object(py::int_(error.twilio_code)) : py::none();
      return errors.attr("TwilioRestError")(error.http_status, error.url, twilio_message, code,
                                            error.method.empty() ? "GET" : error.method, details,
                                            OptionalString(error.more_info),
                                            py::arg("message") = error.message,
                                            py::arg("url") = error.url);
    }
    case ErrorCategory::kTimeout: {
      const char* cls = error.stage == TransportStage::kConnect ? "ConnectTimeout" : "Timeout";
      return errors.attr(cls)(error.message, py::arg("url") = error.url,
                              py::arg("stage") = StageName(error.stage));
    }
    case ErrorCategory::kTls:
      return errors.attr("TLSError")(error.message, py::arg("url") = error.url,
                                     py::arg("stage") = StageName(error.stage));
    case ErrorCategory::kCancelled:
      return errors.attr("Cancelled")(error.message);
    case ErrorCategory::kInvalidArgument:
      return py::reinterpret_borrow<py::object>(PyExc_ValueError)(error.message);
    case ErrorCategory::kTransport:
    case ErrorCategory::kNone:
      break;
  }
  return errors.attr("TransportError")(error.message, py::arg("url") = error.url,
                                       py::arg("stage") = StageName(error.stage));
}

void register_errors(py::module_& m) {
  py::register_local_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const Exception& e) {
      Raise(ErrorToPython(e.error()));
    } catch (const InvalidPhoneNumber& e) {
      Raise(ErrorsModule().attr("InvalidPhoneNumber")(e.number(), e.reason()));
    }
  });

  py::module_ test = m.def_submodule("_test", "Triggers for each exception-translator branch (tests only).");
  test.def(
      "raise_api_error",
      [](long status, int code, const std::string& message, const std::string& more_info,
         const std::string& details) {
        Error e = MakeError(ErrorCategory::kApi, TransportStage::kNone, message);
        e.http_status = status;
        e.twilio_code = code;
        e.more_info = more_info;
        e.details = details;
        e.method = "POST";
        throw ApiError(std::move(e));
      },
      py::arg("status"), py::arg("code"), py::arg("message"), py::arg("more_info") = "",
      py::arg("details") = "");
  test.def(
      "raise_transport_error",
      [](const std::string& stage) {
        throw TransportError(MakeError(ErrorCategory::kTransport, StageFromName(stage),
                                       "connection refused: http://127.0.0.1:1/2010-04-01/Accounts.json"));
      },
      py::arg("stage") = "connect");
  test.def(
      "raise_timeout",
      [](const std::string& stage) {
        throw TransportError(MakeError(ErrorCategory::kTimeout, StageFromName(stage), "timed out"));
      },
      py::arg("stage") = "receive");
  test.def("raise_tls_error", [] {
    throw TransportError(MakeError(ErrorCategory::kTls, TransportStage::kTls, "TLS failure"));
  });
  test.def("raise_cancelled", [] {
    throw CancelledError(MakeError(ErrorCategory::kCancelled, TransportStage::kNone, "request cancelled"));
  });
  test.def(
      "raise_invalid_phone_number",
      [](const std::string& number, const std::string& reason) { throw InvalidPhoneNumber(number, reason); },
      py::arg("number"), py::arg("reason"));
  test.def(
      "raise_invalid_argument",
      [](const std::string& message) { ThrowError(MakeError(ErrorCategory::kInvalidArgument, TransportStage::kNone, message)); },
      py::arg("message"));
}

}  // namespace twiliocore::bindings
