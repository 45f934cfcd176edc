// Bindings of the HTTP engine: glue only, plus the thread-crossing bridge (py_bridge.h).
//
//   Engine(connect_timeout: float, timeout: float, ca_bundle: str, insecure: bool,
//          proxy: str, max_host_connections: int, user_agent: str, max_idle_connections: int)
//     .request(method, url, headers, body, username, password, timeout) -> Response
//     .request_async(...) -> asyncio.Future[Response]
//     .stats() -> dict;  .shutdown();  .running;  .user_agent
//   Response: status, headers, body (bytes), url, method, elapsed, http_version, header(name)
//   default_user_agent() -> str
//
// Engines are created through MakeEngine: the last reference releases the GIL while the
// loop thread is joined, and an atexit hook shuts every live engine down before the
// interpreter finalizes (style guideline 5 (f)).

#include <pybind11/gil_safe_call_once.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bindings.h"
#include "py_bridge.h"
#include "twiliocore/ascii.h"
#include "twiliocore/http_engine.h"

namespace py = pybind11;
using namespace std::chrono_literals;

namespace twiliocore::bindings {
namespace {

std::atomic<bool> g_exiting{false};
// PyThread ident of the thread finalizing the interpreter (the one running atexit handlers,
// the only one that may take the GIL back from then on); set before g_exiting.
std::atomic<unsigned long> g_finalizing_thread{0};

std::mutex& RegistryMutex() {
  static std::mutex mu;
  return mu;
}
std::vector<std::weak_ptr<http::Engine>>& Registry() {
  static std::vector<std::weak_ptr<http::Engine>> engines;
  return engines;
}

std::mutex& ExitActionsMutex() {
  static std::mutex mu;
  return mu;
}
std::map<std::uint64_t, std::function<void()>>& ExitActions() {
  static std::map<std::uint64_t, std::function<void()>> actions;
  return actions;
}

/// atexit hook: refuse further GIL acquisition from background threads, end the registered
/// background work (bulk jobs), then stop and join every live engine, all with the GIL
/// released.
void ShutdownEngines() {
  g_finalizing_thread = PyThread_get_thread_ident();
  g_exiting = true;
  std::map<std::uint64_t, std::function<void()>> actions;
  {
    std::lock_guard lock(ExitActionsMutex());
    actions.swap(ExitActions());
  }
  if (!actions.empty()) {
    py::gil_scoped_release release;
    for (auto& [id, stop] : actions) stop();
  }
  std::vector<std::shared_ptr<http::Engine>> live;
  {
    std::lock_guard lock(RegistryMutex());
    for (auto& weak : Registry()) {
      if (auto engine = weak.lock()) live.push_back(std::move(engine));
    }
    Registry().clear();
  }
  py::gil_scoped_release release;
  for (auto& engine : live) engine->Shutdown();
  live.clear();
}

std::chrono::milliseconds Millis(double seconds, const char* field) {
  if (!std::isfinite(seconds) || seconds < 0) {
    throw std::invalid_argument(std::string(field) + ": must be a finite number >= 0, got " +
                                std::to_string(seconds));
  }
  return std::chrono::milliseconds(static_cast<long long>(std::llround(seconds * 1000.0)));
}

/// The Python face of a response: an HTTP answer (any status). Transport errors raise.
struct PyResponse {
  long status = 0;
  http::Headers headers;
  py::bytes body;
  std::string url;
  std::string method;
  double elapsed = 0;
  int http_version = 0;

  [[nodiscard]] std::optional<std::string> Header(std::string_view name) const {
    const std::string* value = http::FindHeader(headers, name);
    return value != nullptr ? std::optional<std::string>(*value) : std::nullopt;
  }
};

PyResponse ToPyResponse(http::Response&& r) {
  PyResponse out;
  out.status = r.status;
  out.headers = std::move(r.headers);
  out.body = py::bytes(r.body);
  out.url = std::move(r.url);
  out.method = std::move(r.method);
  out.elapsed = static_cast<double>(r.total_time.count()) / 1e6;
  out.http_version = r.http_version;
  return out;
}

http::Request BuildRequest(const std::string& method, const std::string& url,
                           const http::Headers& headers, const py::object& body,
                           const std::string& username, const std::string& password,
                           std::optional<double> timeout) {
  http::Request request;
  request.method = ascii::ToUpper(method);
  request.url = url;
  request.headers = headers;
  if (!body.is_none()) {
    if (py::isinstance<py::bytes>(body)) {
      request.body = body.cast<std::string>();
    } else if (py::isinstance<py::str>(body)) {
      request.body = body.cast<std::string>();
    } else {
      throw py::type_error("body: expected bytes, str or None");
    }
  }
  request.username = username;
  request.password = SecureString(password);
  if (timeout) request.total_timeout = Millis(*timeout, "timeout");
  return request;
}

}  // namespace

// --- bridge (py_bridge.h) ----------------------------------------------------------------

bool PythonExiting() noexcept { return g_exiting.load(); }

std::uint64_t RegisterAtExit(std::function<void()> stop) {
  static std::atomic<std::uint64_t> next_id{1};
  const std::uint64_t id = next_id++;
  std::lock_guard lock(ExitActionsMutex());
  ExitActions().emplace(id, std::move(stop));
  return id;
}

void UnregisterAtExit(std::uint64_t id) noexcept {
  std::lock_guard lock(ExitActionsMutex());
  ExitActions().erase(id);
}

ExitSafeGil::ExitSafeGil() {
  if (!g_exiting.load() && Py_IsInitialized() != 0) {
    state_ = PyGILState_Ensure();
    acquired_ = true;
  }
}

ExitSafeGil::~ExitSafeGil() {
  if (acquired_) PyGILState_Release(state_);
}

void GilSafeObject::Reset() noexcept {
  if (ptr_ == nullptr) return;
  PyObject* p = std::exchange(ptr_, nullptr);
  if (PyGILState_Check() != 0) {
    Py_DECREF(p);
    return;
  }
  ExitSafeGil gil;
  if (gil) Py_DECREF(p);
  // else: the interpreter is exiting; leaking is the only safe choice.
}

py::object JsonToPython(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null: return py::none();
    case nlohmann::json::value_t::boolean: return py::bool_(value.get<bool>());
    case nlohmann::json::value_t::number_integer: return py::int_(value.get<std::int64_t>());
    case nlohmann::json::value_t::number_unsigned: return py::int_(value.get<std::uint64_t>());
    case nlohmann::json::value_t::number_float: return py::float_(value.get<double>());
    case nlohmann::json::value_t::string: return py::str(value.get_ref<const std::string&>());
    case nlohmann::json::value_t::array: {
      py::list out;
      for (const auto& item : value) out.append(JsonToPython(item));
      return out;
    }
    case nlohmann::json::value_t::object: {
      py::dict out;
      for (const auto& [key, item] : value.items()) out[py::str(key)] = JsonToPython(item);
      return out;
    }
    default: return py::none();
  }
}

std::shared_ptr<http::Engine> MakeEngine(http::EngineOptions options) {
  // A custom deleter: destroying an engine joins its thread, and the thread's callbacks
  // may be waiting for the GIL, so the GIL is released for the join when held.
  auto owned = std::make_unique<http::Engine>(std::move(options));
  std::shared_ptr<http::Engine> engine(owned.release(), [](http::Engine* raw) {
    std::unique_ptr<http::Engine> doomed(raw);
    if (doomed->OnEngineThread()) {
      // The last reference went away inside one of the engine's own callbacks (Python's
      // cyclic GC can run there): the loop cannot join itself, so another thread does it
      // once the callback has returned.
      std::thread([doomed = std::move(doomed)]() mutable { doomed.reset(); }).detach();
      return;
    }
    if (Py_IsInitialized() != 0 && PyGILState_Check() != 0) {
      py::gil_scoped_release release;
      doomed.reset();
    }
  });
  std::lock_guard lock(RegistryMutex());
  auto& registry = Registry();
  std::erase_if(registry, [](const std::weak_ptr<http::Engine>& w) { return w.expired(); });
  registry.push_back(engine);
  return engine;
}

http::Response WaitInterruptibly(http::Engine& engine, http::Pending& pending) {
  for (;;) {
    bool ready = false;
    {
      py::gil_scoped_release release;
      ready = pending.WaitFor(100ms);
      if (g_exiting.load() && PyThread_get_thread_ident() != g_finalizing_thread.load()) {
        // A daemon thread at interpreter exit: taking the GIL back during finalization
        // would end this thread with pthread_exit, whose unwinding through the noexcept
        // destructor above aborts the process. Park until the process ends instead.
        for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
      }
    }
    if (ready) return pending.Take();
    if (PyErr_CheckSignals() != 0) {
      engine.Cancel(pending.id());
      throw py::error_already_set();
    }
  }
}

namespace {

/// Resolves a future on its loop's thread, unless it was cancelled meanwhile.
py::object& Resolver() {
  PYBIND11_CONSTINIT static py::gil_safe_call_once_and_store<py::object> storage;
  return storage
      .call_once_and_store_result([] {
        return py::object(py::cpp_function([](const py::object& future, bool ok, const py::object& value) {
          if (future.attr("done")().cast<bool>()) return;
          if (ok) {
            future.attr("set_result")(value);
          } else {
            future.attr("set_exception")(value);
          }
        }));
      })
      .get_stored();
}

/// What a pending async request keeps of Python: released with the GIL (GilSafeObject).
struct AsyncState {
  GilSafeObject loop;
  GilSafeObject future;
};

}  // namespace

py::object SubmitAsync(const std::shared_ptr<http::Engine>& engine, http::Request request,
                       ToPython to_python) {
  py::object loop = py::module_::import("asyncio").attr("get_running_loop")();
  py::object future = loop.attr("create_future")();
  auto state = std::make_shared<AsyncState>();
  state->loop = GilSafeObject(loop);
  state->future = GilSafeObject(future);
  py::object resolver = Resolver();

  const http::RequestId id = engine->Submit(
      std::move(request), [state, to_python = std::move(to_python)](http::Response&& response) {
        ExitSafeGil gil;
        if (!gil) return;  // exiting: GilSafeObject leaks the loop and future on purpose
        py::handle loop_handle = state->loop.get();
        try {
          // A cancelled future (its transfer was cancelled for it) needs nothing, and its
          // loop may be closed by now; done() is a plain read.
          if (!state->future.get().attr("done")().cast<bool>()) {
            auto [ok, value] = to_python(std::move(response));
            loop_handle.attr("call_soon_threadsafe")(Resolver(), state->future.get(), ok, value);
          }
        } catch (py::error_already_set& e) {
          // A closed loop means nobody is waiting any more; anything else is reported.
          bool closed = false;
          try {
            closed = loop_handle.attr("is_closed")().cast<bool>();
          } catch (py::error_already_set&) {
          }
          if (!closed) e.discard_as_unraisable("twiliocore: delivering an async result");
        } catch (const std::exception& e) {
          PyErr_SetString(PyExc_RuntimeError, e.what());
          py::error_already_set err;
          err.discard_as_unraisable("twiliocore: delivering an async result");
        }
        state->future.Reset();
        state->loop.Reset();
      });
  // Cancelling the awaitable cancels the transfer. Only a weak reference to the engine:
  // the future must not keep an engine alive.
  std::weak_ptr<http::Engine> weak = engine;
  future.attr("add_done_callback")(py::cpp_function([weak, id](const py::object& done) {
    if (!done.attr("cancelled")().cast<bool>()) return;
    if (auto e = weak.lock()) e->Cancel(id);
  }));
  return future;
}

void register_http(py::module_& m) {
  py::class_<PyResponse>(m, "Response", "An HTTP answer (any status).")
      .def_readonly("status", &PyResponse::status)
      .def_readonly("headers", &PyResponse::headers)
      .def_readonly("body", &PyResponse::body)
      .def_readonly("url", &PyResponse::url)
      .def_readonly("method", &PyResponse::method)
      .def_readonly("elapsed", &PyResponse::elapsed)
      .def_readonly("http_version", &PyResponse::http_version)
      .def("header", &PyResponse::Header, py::arg("name"))
      .def("__repr__", [](const PyResponse& r) {
        return "<Response " + std::to_string(r.status) + " " + r.method + " " + r.url + ">";
      });

  py::class_<http::Engine, std::shared_ptr<http::Engine>>(m, "Engine", R"pbdoc(
The libcurl multi event loop on one background thread. Thread-safe.
)pbdoc")
      .def(py::init([](double connect_timeout, double timeout, const std::string& ca_bundle,
                       bool insecure, const std::string& proxy, long max_host_connections,
                       const std::string& user_agent, long max_idle_connections) {
             http::EngineOptions options;
             options.connect_timeout = Millis(connect_timeout, "connect_timeout");
             options.total_timeout = Millis(timeout, "timeout");
             options.ca_bundle = ca_bundle;
             options.insecure = insecure;
             options.proxy = proxy;
             options.max_host_connections = max_host_connections;
             options.user_agent = user_agent;
             options.max_idle_connections = max_idle_connections;
             return MakeEngine(std::move(options));
           }),
           py::arg("connect_timeout") = 10.0, py::arg("timeout") = 30.0, py::arg("ca_bundle") = "",
           py::arg("insecure") = false, py::arg("proxy") = "", py::arg("max_host_connections") = 0,
           py::arg("user_agent") = "", py::arg("max_idle_connections") = 256)
      .def(
          "request",
          [](http::Engine& engine, const std::string& method, const std::string& url,
             const http::Headers& headers, const py::object& body, const std::string& username,
             const std::string& password, std::optional<double> timeout) {
            http::Pending pending =
                engine.Start(BuildRequest(method, url, headers, body, username, password, timeout));
            http::Response response = WaitInterruptibly(engine, pending);
            if (response.error) ThrowError(std::move(response.error));
            return ToPyResponse(std::move(response));
          },
          py::arg("method"), py::arg("url"), py::arg("headers") = http::Headers{},
          py::arg("body") = py::none(), py::arg("username") = "", py::arg("password") = "",
          py::arg("timeout") = py::none())
      .def(
          "request_async",
          [](const std::shared_ptr<http::Engine>& engine, const std::string& method,
             const std::string& url, const http::Headers& headers, const py::object& body,
             const std::string& username, const std::string& password,
             std::optional<double> timeout) {
            return SubmitAsync(engine,
                               BuildRequest(method, url, headers, body, username, password, timeout),
                               [](http::Response&& r) -> std::pair<bool, py::object> {
                                 if (r.error) return {false, ErrorToPython(r.error)};
                                 return {true, py::cast(ToPyResponse(std::move(r)))};
                               });
          },
          py::arg("method"), py::arg("url"), py::arg("headers") = http::Headers{},
          py::arg("body") = py::none(), py::arg("username") = "", py::arg("password") = "",
          py::arg("timeout") = py::none())
      .def("stats",
           [](const http::Engine& engine) {
             const http::EngineStats s = engine.Stats();
             py::dict d;
             d["submitted"] = s.submitted;
             d["completed"] = s.completed;
             d["failed"] = s.failed;
             d["connections_opened"] = s.connections_opened;
             d["in_flight"] = s.in_flight;
             return d;
           })
      .def("shutdown", &http::Engine::Shutdown, py::call_guard<py::gil_scoped_release>())
      .def_property_readonly("running", &http::Engine::running)
      .def_property_readonly("user_agent",
                             [](const http::Engine& e) { return e.options().user_agent; })
      .def("__repr__", [](const http::Engine& e) {
        return std::string("<Engine ") + (e.running() ? "running" : "shut down") + ">";
      });

  m.def("default_user_agent", &http::DefaultUserAgent);
  py::module_::import("atexit").attr("register")(py::cpp_function(&ShutdownEngines));
}

}  // namespace twiliocore::bindings
