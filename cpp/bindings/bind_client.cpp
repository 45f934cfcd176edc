// Bindings of the Twilio REST client: glue only.
//
//   TwilioClient(engine: Engine, account_sid: str, auth_token: str, base_url: str,
//                username: str = "")
//     .account_sid, .base_url, .engine
//     .create_message(to, from_, body, media_urls, status_callback, messaging_service_sid,
//                     validity_period, extra) -> dict          (+ create_message_async)
//     .fetch_message(sid) -> dict                                (+ _async)
//     .update_message(sid, params) -> dict                       (+ _async)
//     .delete_message(sid) -> None                               (+ _async)
//     .fetch_page(uri) -> dict                                   (+ _async)
//     .fetch_account(sid) -> dict                                (+ _async)
//     .request(method, path, query, form) -> object              (+ _async)
//
// Sync calls wait with the GIL released in 100 ms slices (Ctrl-C cancels the request);
// async calls return asyncio futures resolved from the engine thread (py_bridge.h).
// Errors raise through the one translator (bind_errors.cpp).

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bindings.h"
#include "py_bridge.h"
#include "twiliocore/twilio_client.h"

namespace py = pybind11;

namespace twiliocore::bindings {
namespace {

using ClientPtr = std::shared_ptr<TwilioClient>;
using Builder = std::function<http::Request(const TwilioClient&)>;

py::object RunSync(const TwilioClient& client, const Builder& build) {
  http::Request request = build(client);
  http::Engine& engine = *client.engine();
  http::Pending pending = engine.Start(std::move(request));
  http::Response response = WaitInterruptibly(engine, pending);
  ApiResult result = TwilioClient::Interpret(std::move(response));
  if (result.error) ThrowError(std::move(result.error));
  return JsonToPython(result.json);
}

py::object RunAsync(const TwilioClient& client, const Builder& build) {
  return SubmitAsync(client.engine(), build(client),
                     [](http::Response&& r) -> std::pair<bool, py::object> {
                       ApiResult result = TwilioClient::Interpret(std::move(r));
                       if (result.error) return {false, ErrorToPython(result.error)};
                       return {true, JsonToPython(result.json)};
                     });
}

/// Defines `name` and `name_async` from one request builder taking the Python arguments.
template <typename... Args, typename Make>
void DefPair(py::class_<TwilioClient, ClientPtr>& cls, const char* name, const char* doc, Make make,
             auto... arg_specs) {
  cls.def(
      name,
      [make](const TwilioClient& client, Args... args) {
        return RunSync(client, [&](const TwilioClient& c) { return make(c, args...); });
      },
      doc, arg_specs...);
  const std::string async_name = std::string(name) + "_async";
  cls.def(
      async_name.c_str(),
      [make](const TwilioClient& client, Args... args) {
        return RunAsync(client, [&](const TwilioClient& c) { return make(c, args...); });
      },
      doc, arg_specs...);
}

MessageCreate MakeCreate(const std::string& to, const std::string& from, const std::string& body,
                         const std::vector<std::string>& media_urls,
                         const std::string& status_callback,
                         const std::string& messaging_service_sid,
                         std::optional<int> validity_period, const FormParams& extra) {
  MessageCreate c;
  c.to = to;
  c.from = from;
  c.body = body;
  c.media_urls = media_urls;
  c.status_callback = status_callback;
  c.messaging_service_sid = messaging_service_sid;
  c.validity_period = validity_period;
  c.extra = extra;
  return c;
}

}  // namespace

void register_client(py::module_& m) {
  py::class_<TwilioClient, ClientPtr> cls(m, "TwilioClient", R"pbdoc(
Twilio's REST API on an Engine. Thread-safe; the auth token cannot be read back.
)pbdoc");
  cls.def(py::init([](std::shared_ptr<http::Engine> engine, const std::string& account_sid,
                      const std::string& auth_token, const std::string& base_url,
                      const std::string& username) {
            Credentials credentials;
            credentials.account_sid = account_sid;
            credentials.username = username;
            credentials.password = SecureString(auth_token);
            return std::make_shared<TwilioClient>(std::move(engine), std::move(credentials),
                                                  base_url.empty() ? std::string(kDefaultBaseUrl)
                                                                   : base_url);
          }),
          py::arg("engine"), py::arg("account_sid"), py::arg("auth_token"),
          py::arg("base_url") = std::string(kDefaultBaseUrl), py::arg("username") = "")
      .def_property_readonly("account_sid", &TwilioClient::account_sid)
      .def_property_readonly("base_url", &TwilioClient::base_url)
      .def_property_readonly("engine", &TwilioClient::engine)
      .def("__repr__", [](const TwilioClient& c) {
        return "<TwilioClient account_sid=" + c.account_sid() + " base_url=" + c.base_url() + ">";
      });

  DefPair<const std::string&, const std::string&, const std::string&, const std::vector<std::string>&,
          const std::string&, const std::string&, std::optional<int>, const FormParams&>(
      cls, "create_message", "POST Messages.json; returns the Message resource.",
      [](const TwilioClient& c, const std::string& to, const std::string& from,
         const std::string& body, const std::vector<std::string>& media_urls,
         const std::string& status_callback, const std::string& messaging_service_sid,
         std::optional<int> validity_period, const FormParams& extra) {
        return c.CreateMessageRequest(MakeCreate(to, from, body, media_urls, status_callback,
                                                 messaging_service_sid, validity_period, extra));
      },
      py::arg("to"), py::arg("from_") = "", py::arg("body") = "",
      py::arg("media_urls") = std::vector<std::string>{}, py::arg("status_callback") = "",
      py::arg("messaging_service_sid") = "", py::arg("validity_period") = py::none(),
      py::arg("extra") = FormParams{});
  DefPair<const std::string&>(
      cls, "fetch_message", "GET Messages/{sid}.json.",
      [](const TwilioClient& c, const std::string& sid) { return c.FetchMessageRequest(sid); },
      py::arg("sid"));
  DefPair<const std::string&, const FormParams&>(
      cls, "update_message", "POST Messages/{sid}.json (Body='' redacts, Status=canceled).",
      [](const TwilioClient& c, const std::string& sid, const FormParams& params) {
        return c.UpdateMessageRequest(sid, params);
      },
      py::arg("sid"), py::arg("params"));
  DefPair<const std::string&>(
      cls, "delete_message", "DELETE Messages/{sid}.json (204).",
      [](const TwilioClient& c, const std::string& sid) { return c.DeleteMessageRequest(sid); },
      py::arg("sid"));
  DefPair<const std::string&>(
      cls, "fetch_page", "GET a page by its next_page_uri, or its absolute URL on the base URL.",
      [](const TwilioClient& c, const std::string& uri) { return c.PageRequest(uri); },
      py::arg("uri"));
  DefPair<const std::string&>(
      cls, "fetch_account", "GET Accounts/{sid}.json.",
      [](const TwilioClient& c, const std::string& sid) { return c.FetchAccountRequest(sid); },
      py::arg("sid"));
  DefPair<const std::string&, const std::string&, const FormParams&, const FormParams&>(
      cls, "request", "Any API call: path relative to the base URL; query and form pairs.",
      [](const TwilioClient& c, const std::string& method, const std::string& path,
         const FormParams& query, const FormParams& form) {
        return c.MakeRequest(method, path, query, form);
      },
      py::arg("method"), py::arg("path"), py::arg("query") = FormParams{},
      py::arg("form") = FormParams{});
}

}  // namespace twiliocore::bindings
