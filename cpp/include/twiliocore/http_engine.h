#pragma once

/// @file
/// The HTTP engine: one libcurl *multi* event loop on one background thread.
///
/// Every network call of the project goes through an `Engine`: producers on any thread
/// `Submit` requests (enqueued under a mutex, then `curl_multi_wakeup`), the loop thread
/// alone touches the curl handles, and completions are delivered by callback on the loop
/// thread. Connections are kept alive and reused (the multi handle's connection cache),
/// HTTP/2 is negotiated over TLS where the server offers it and streams are multiplexed
/// (`CURLPIPE_MULTIPLEX` + `CURLOPT_PIPEWAIT`). libcurl never appears in this header.

#include <chrono>
#include <cstddef>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "twiliocore/error.h"
#include "twiliocore/secure_string.h"

namespace twiliocore::http {

/// Identifies a submitted request for `Engine::Cancel`. Never 0 for a real request.
using RequestId = std::uint64_t;

/// Header (name, value) pairs in order; names may repeat.
using Headers = std::vector<std::pair<std::string, std::string>>;

/// One HTTP request. Move-only (it may carry a password).
struct Request {
  std::string method = "GET";  ///< "GET", "POST", "DELETE", ... (upper case)
  std::string url;             ///< absolute http:// or https:// URL, no credentials in it
  Headers headers;             ///< extra request headers
  std::string body;            ///< request body (sent for POST/PUT/PATCH)
  std::string username;        ///< HTTP Basic user; empty: no auth
  SecureString password;       ///< HTTP Basic password. Both are sent as an Authorization
                               ///< line of the handle's header list (wiped when freed), never
                               ///< in the URL nor to a proxy; a request's own Authorization
                               ///< header wins.
  /// Per-request connect timeout; unset: the engine's.
  std::optional<std::chrono::milliseconds> connect_timeout;
  /// Per-request total timeout (from submission to last byte); unset: the engine's.
  std::optional<std::chrono::milliseconds> total_timeout;
  /// False: response headers are not collected; `Response::headers` holds at most a
  /// `retry-after` (from libcurl's own parse of it, for a non-2xx answer). Saves libcurl's
  /// header callbacks and their copies when only the body matters.
  bool keep_response_headers = true;
  /// False: no `Accept-Encoding` is offered, so the answer comes uncompressed (for small
  /// answers, where decompressing costs more than the bytes saved).
  bool accept_compressed = true;
  /// For the library's request templates: a non-zero id that only requests with identical
  /// method, URL, headers, credentials and flags share (a template gives all its requests
  /// one), so the engine matches a configured handle without comparing them. 0: compare.
  std::uint64_t settings_id = 0;
};

/// The first value of the header `name` in `headers` (names compared ignoring ASCII case),
/// or nullptr when there is none.
[[nodiscard]] const std::string* FindHeader(const Headers& headers, std::string_view name) noexcept;

/// The outcome of one request: an HTTP answer (any status) or an `error`.
struct Response {
  long status = 0;     ///< HTTP status; 0 when no answer arrived
  Headers headers;     ///< response headers of the final answer, names in lower case
  std::string body;    ///< response body
  Error error;         ///< set when no complete answer arrived (transport, timeout, TLS, cancel)
  std::string url;     ///< the request URL, credentials stripped
  std::string method;  ///< the request method
  std::chrono::microseconds connect_time{0};  ///< time until the TCP connect completed
  std::chrono::microseconds total_time{0};    ///< time until the transfer ended
  long new_connections = 0;                   ///< connections this transfer had to open
  int http_version = 0;  ///< protocol of the answer: 10, 11, 20 or 30; 0 when none

  /// The first header value named `name` (case-insensitive), or "" when absent.
  [[nodiscard]] std::string Header(std::string_view name) const;
  /// True when an HTTP answer arrived (any status) and no error is set.
  [[nodiscard]] bool ok() const noexcept { return !error && status != 0; }
};

/// Called once per request with its outcome, on the engine thread (or inline on the
/// caller's thread when the engine is already shut down). Must not block for long and must
/// not call `Engine::Shutdown` or destroy the engine; exceptions it throws are swallowed.
using Callback = std::function<void(Response&&)>;

/// Engine-wide settings.
struct EngineOptions {
  std::chrono::milliseconds connect_timeout{10'000};  ///< default connect timeout
  std::chrono::milliseconds total_timeout{30'000};    ///< default total timeout; 0 = none
  /// PEM CA bundle (CURLOPT_CAINFO); empty: SSL_CERT_FILE, else the system store (libcurl's
  /// built-in file, else the first of the usual distribution paths that exists).
  std::string ca_bundle;
  bool insecure = false;  ///< disables TLS verification: local testing only
  /// Proxy URL (CURLOPT_PROXY); empty: the environment's, as libcurl reads it (http_proxy,
  /// https_proxy or HTTPS_PROXY, all_proxy or ALL_PROXY), read when the engine is made.
  /// no_proxy / NO_PROXY (also read then) lists the hosts that bypass it.
  std::string proxy;
  long max_host_connections = 0;  ///< CURLMOPT_MAX_HOST_CONNECTIONS; 0 = unlimited
  /// Idle connections kept for reuse (CURLMOPT_MAXCONNECTS). libcurl's default (4x the
  /// transfers in progress) shrinks between bursts and closes warm HTTP/1.1 connections.
  long max_idle_connections = 256;
  std::string user_agent;         ///< empty: `DefaultUserAgent()`
};

/// Counters for benchmarks and health checks.
struct EngineStats {
  std::uint64_t submitted = 0;           ///< requests accepted by Submit
  std::uint64_t completed = 0;           ///< requests finished (any outcome)
  std::uint64_t failed = 0;              ///< requests finished with an error
  std::uint64_t connections_opened = 0;  ///< sum of CURLINFO_NUM_CONNECTS
  std::uint64_t in_flight = 0;           ///< submitted and not yet completed
};

/// `twiliocore/<version> (<os> <arch>) libcurl/<version>`.
[[nodiscard]] std::string DefaultUserAgent();

/// The URL with any `user:password@` removed, for messages and logs.
[[nodiscard]] std::string StripCredentials(std::string_view url);

namespace internal {
struct PendingState;
class EngineImpl;
}  // namespace internal

/// A stream of requests the engine pulls on its own thread: the bulk fan-out's path, with no
/// submission, wakeup or allocation per request in steady state. The engine keeps a set of
/// request slots per feed, each with its easy handle (configured once, as curl's
/// 10-at-a-time.c keeps its handles), its request and its answer buffers, and reuses them
/// request after request: it asks `Next` whenever it can start a request (each loop pass and
/// right after each completion), and hands every outcome to `Done`.
///
/// Both methods run on the engine thread only, one at a time; they must be quick and must
/// not block or call the engine (except `Poke`); exceptions they throw are swallowed.
class Feed {
 public:
  virtual ~Feed() = default;
  /// Writes the next request into `request`, a reused object (assign every field the request
  /// needs; buffers keep their capacity), and its `tag`; false when none is ready now.
  virtual bool Next(Request& request, std::uint64_t& tag) = 0;
  /// The outcome of request `tag` (any HTTP answer, or an error: cancelled at shutdown, too).
  /// `response` is cleared and reused after the call returns.
  virtual void Done(std::uint64_t tag, Response& response) = 0;
  /// Called once per loop pass after the pass's `Done` calls: a feed that holds outcomes back
  /// to hand them over in one batch does it here.
  virtual void Flush() {}
  /// Most of its requests in flight at once (read before each `Next`; may change at any time,
  /// call `Engine::Poke` after raising it).
  [[nodiscard]] virtual std::size_t Limit() const { return static_cast<std::size_t>(-1); }
  /// The engine will pull nothing more from this feed (it shut down, or the feed was attached
  /// after it did). Called last: every request it pulled was answered through `Done` and
  /// flushed (those it still had ready at shutdown as cancelled, never started). From then on
  /// the engine does not touch the feed, so its owner may take over what is left in it.
  virtual void Stopped() {}
};

/// A future-like handle on one submitted request. Cheap to move; all methods are safe to
/// call from any thread. `Take` may be called once, after the response is ready.
class Pending {
 public:
  Pending() = default;
  /// The request id, for `Engine::Cancel`.
  [[nodiscard]] RequestId id() const noexcept { return id_; }
  /// True once the response is available.
  [[nodiscard]] bool Ready() const;
  /// Waits up to `timeout`; true when the response is available. Bounded, so a caller
  /// (the Python bindings) can check for signals between slices.
  [[nodiscard]] bool WaitFor(std::chrono::milliseconds timeout) const;
  /// Waits without bound.
  void Wait() const;
  /// Waits, then moves the response out. Precondition: not taken before.
  [[nodiscard]] Response Take();

 private:
  friend class Engine;
  RequestId id_ = 0;
  std::shared_ptr<internal::PendingState> state_;
};

/// The libcurl multi loop. Thread-safe: `Submit`, `Start`, `Perform`, `Cancel`, `Stats` and
/// `Shutdown` may be called from any thread except the engine's own (callbacks must not
/// call `Shutdown`, `Perform` or `Pending::Wait*`). Not copyable or movable; share it
/// through `std::shared_ptr`.
class Engine {
 public:
  /// Starts the loop thread. Throws `std::runtime_error` if libcurl cannot be set up.
  explicit Engine(EngineOptions options = {});
  /// Calls `Shutdown()`.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  /// Queues `request`; `callback` gets the response on the engine thread. After
  /// `Shutdown` the callback runs at once on the caller's thread with `kCancelled`.
  RequestId Submit(Request request, Callback callback);

  /// Queues `request` and returns a handle to wait on.
  [[nodiscard]] Pending Start(Request request);

  /// Submits and waits (blocking, not interruptible). Convenience for C++ callers.
  [[nodiscard]] Response Perform(Request request);

  /// Starts pulling requests from `feed` (see `Feed`) until `Detach`. The engine keeps a
  /// reference to it while any of its requests is in flight.
  void Attach(std::shared_ptr<Feed> feed);
  /// Stops pulling from `feed`; requests already started complete through `Feed::Done`.
  void Detach(const std::shared_ptr<Feed>& feed);
  /// Tells the loop that an attached feed has new requests, waking it only if it is asleep.
  /// Lock-free; call after a batch of requests was made ready, not per request.
  void Poke() noexcept;

  /// Cancels a request: it completes with `kCancelled` (unless it already completed).
  /// Unknown or finished ids are ignored. Asynchronous: returns before the callback ran.
  void Cancel(RequestId id);

  /// Stops the loop: every queued or in-flight request completes with `kCancelled`, then
  /// the thread is joined. Idempotent.
  void Shutdown();

  /// True until `Shutdown` began.
  [[nodiscard]] bool running() const noexcept;

  /// True when called from this engine's loop thread (inside a callback). An owner that may
  /// drop its last reference there (a garbage collector running inside a callback) must hand
  /// the destruction to another thread.
  [[nodiscard]] bool OnEngineThread() const noexcept;

  /// A snapshot of the counters.
  [[nodiscard]] EngineStats Stats() const;

  /// The options the engine was built with.
  [[nodiscard]] const EngineOptions& options() const noexcept;

 private:
  std::unique_ptr<internal::EngineImpl> impl_;
};

}  // namespace twiliocore::http
