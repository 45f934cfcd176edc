// The HTTP engine: one libcurl multi loop per Engine, driven as curl documents it
// (docs/examples/10-at-a-time.c, http2-download.c, libcurl-thread.md):
//
//   loop thread:  take queued requests and cancels (under mutex_)
//                 -> curl_multi_perform
//                 -> drain curl_multi_info_read (transfer found via CURLOPT_PRIVATE)
//                 -> run completion callbacks (no engine mutex held)
//                 -> curl_multi_poll(timeout)
//   producers:    enqueue under mutex_, then curl_multi_wakeup (the one multi call that
//                 is safe from another thread, curl_multi_wakeup.md).
//
// Only the loop thread touches CURL*/CURLM* handles. Easy handles are pooled and reset for
// reuse; connections live in the multi handle's connection cache, so sequential requests
// to one host reuse one connection.

#include "twiliocore/http_engine.h"

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <thread>

#include "twiliocore/ascii.h"
#include "twiliocore/signature.h"
#include "twiliocore/thread_name.h"
#include "twiliocore/version.h"

namespace twiliocore::http {
namespace internal {
namespace {

/// Per-handle libcurl buffers (see Configure): its receive buffer, and its upload buffer at
/// libcurl's minimum.
constexpr long kReceiveBufferBytes = 4096;
constexpr long kUploadBufferBytes = 16384;

// --- RAII owners ----------------------------------------------------------------------

struct EasyDeleter {
  void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct MultiDeleter {
  void operator()(CURLM* h) const noexcept { curl_multi_cleanup(h); }
};
struct ShareDeleter {
  void operator()(CURLSH* s) const noexcept { curl_share_cleanup(s); }
};
struct UrlDeleter {
  void operator()(CURLU* u) const noexcept { curl_url_cleanup(u); }
};
struct SlistDeleter {
  // Header lists hold the Authorization line: wiped before they are freed.
  void operator()(curl_slist* l) const noexcept {
    for (curl_slist* node = l; node != nullptr; node = node->next) {
      OPENSSL_cleanse(node->data, std::strlen(node->data));
    }
    curl_slist_free_all(l);
  }
};
/// Owner of a CURL* (copy deleted, move noexcept via unique_ptr).
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
/// Owner of a CURLM*.
using MultiHandle = std::unique_ptr<CURLM, MultiDeleter>;
/// Owner of a curl_slist*.
using SlistHandle = std::unique_ptr<curl_slist, SlistDeleter>;
/// Owner of a CURLU* (a parsed URL).
using UrlHandle = std::unique_ptr<CURLU, UrlDeleter>;
/// Owner of a CURLSH* (data shared by an engine's handles; outlives every one of them).
using ShareHandle = std::unique_ptr<CURLSH, ShareDeleter>;

// curl_global_init is not thread-safe in older libcurl and must run once per process
// (libcurl-thread.md); curl_global_cleanup is deliberately never called because engines
// may outlive static destruction order.
void GlobalInitOnce() {
  static std::once_flag once;
  static CURLcode result = CURLE_OK;
  std::call_once(once, [] { result = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (result != CURLE_OK) throw std::runtime_error("curl_global_init failed");
}

bool IsHttps(std::string_view url) noexcept { return ascii::StartsWithIgnoreCase(url, "https://"); }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' ||
                        s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

/// "Accept-Encoding: " and the encodings this libcurl decodes, in the order curl lists them
/// itself for CURLOPT_ACCEPT_ENCODING "" (lib/content_encoding.c); empty if it decodes none.
const std::string& AcceptEncodingHeader() {
  static const std::string header = [] {
    const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
    const int features = info != nullptr ? info->features : 0;
    std::string list;
    auto add = [&list](std::string_view name) {
      if (!list.empty()) list += ", ";
      list += name;
    };
    if ((features & CURL_VERSION_LIBZ) != 0) {
      add("deflate");
      add("gzip");
    }
    if ((features & CURL_VERSION_BROTLI) != 0) add("br");
    if ((features & CURL_VERSION_ZSTD) != 0) add("zstd");
    return list.empty() ? std::string() : "Accept-Encoding: " + list;
  }();
  return header;
}

/// The settings an easy handle was configured with, apart from what changes with every
/// request (URL, body, the transfer's own pointers). A pooled handle is reused without
/// curl_easy_reset, as curl's 10-at-a-time.c reuses its handles, only for a request that
/// needs exactly these settings; any other request resets it and configures it afresh.
/// Requests are compared with it in place (`Matches`), so a request that finds a configured
/// handle copies nothing; a setup is built only when a handle is configured.
struct HandleSetup {
  std::string method;
  bool https = false;
  bool has_body = false;
  bool keep_headers = true;
  bool compressed = true;
  std::uint64_t settings_id = 0;  ///< Request::settings_id of the request it was set up for
  bool large_body = false;  ///< a body large enough for libcurl to send "Expect: 100-continue"
  std::string username;
  SecureString password;
  long connect_ms = 0;
  long total_ms = 0;
  Headers headers;

  /// The parts of a setup computed from a request (see `Derive`).
  struct Derived {
    bool https = false;
    bool has_body = false;
    bool large_body = false;
    long connect_ms = 0;
    long total_ms = 0;
  };

  [[nodiscard]] bool Matches(const Request& r, const Derived& d) const noexcept {
    if (https != d.https || has_body != d.has_body || connect_ms != d.connect_ms ||
        total_ms != d.total_ms || large_body != d.large_body ||
        keep_headers != r.keep_response_headers || compressed != r.accept_compressed) {
      return false;
    }
    if (settings_id != 0 && settings_id == r.settings_id) return true;
    return method == r.method && username == r.username &&
           password.view() == r.password.view() && headers == r.headers;
  }

  /// A setup for `r` (copies its settings; done only when a handle is configured).
  [[nodiscard]] static HandleSetup For(const Request& r, const Derived& d) {
    HandleSetup setup;
    setup.method = r.method;
    setup.https = d.https;
    setup.has_body = d.has_body;
    setup.keep_headers = r.keep_response_headers;
    setup.settings_id = r.settings_id;
    setup.compressed = r.accept_compressed;
    setup.large_body = d.large_body;
    setup.username = r.username;
    setup.password = SecureString(r.password.view());
    setup.connect_ms = d.connect_ms;
    setup.total_ms = d.total_ms;
    setup.headers = r.headers;
    return setup;
  }
};
/// The URL set on an easy handle, as text (CURLOPT_URL) and parsed (CURLOPT_CURLU, which
/// libcurl reads on every transfer: see EngineImpl::SetUrl). Empty: none set.
struct HandleUrl {
  std::string text;
  UrlHandle parsed;
};

/// A pooled easy handle with the header list and URL it points at and what it was set up for.
struct PooledHandle {
  SlistHandle header_list;  // declared first: destroyed after the handle that points at it
  HandleUrl url;            // likewise
  EasyHandle easy;
  HandleSetup setup;
  bool configured = false;  ///< false after curl_easy_reset (or for a fresh handle)
};

}  // namespace

/// Shared state of a `Pending`: filled once by the engine thread.
struct PendingState {
  std::mutex mu;
  std::condition_variable cv;
  bool ready = false;
  bool taken = false;
  Response response;
};

/// One request in the loop. Heap-allocated so CURLOPT_PRIVATE, CURLOPT_POSTFIELDS and the
/// error buffer keep stable addresses while curl works on it.
struct FeedState;

struct Transfer {
  RequestId id = 0;
  FeedState* feed = nullptr;  ///< the feed this slot belongs to (its requests come from there)
  std::uint64_t tag = 0;      ///< the feed's tag of the current request
  Request request;
  Callback callback;
  HandleUrl url;  ///< the URL set on `easy` (declared first: outlives `easy`)
  EasyHandle easy;
  SlistHandle header_list;
  HandleSetup setup;        ///< what `easy` is configured for (see HandleSetup)
  bool configured = false;  ///< `easy` came from the pool already configured for `setup`
  Response response;
  int attempts = 0;  ///< times curl started sending this request (see OnPreRequest)
  std::size_t active_index = 0;  ///< position in EngineImpl::active_ while in the multi handle
  /// `easy`'s CURLOPT_PRIVATE and data pointers point at this transfer (a feed's slot keeps
  /// its handle and its address, so they are set once).
  bool bound = false;
  char error_buffer[CURL_ERROR_SIZE] = {};
};

/// An attached feed: its slots (idle ones wait here with their handles configured).
struct FeedState {
  std::shared_ptr<Feed> feed;
  std::vector<std::unique_ptr<Transfer>> idle;
  std::size_t in_flight = 0;
  bool detached = false;
};

// The value of the first of `names` set in the environment (perhaps empty), or nullopt.
std::optional<std::string> Environment(std::initializer_list<const char*> names) {
  for (const char* name : names) {
    if (const char* value = std::getenv(name); value != nullptr) return value;
  }
  return std::nullopt;
}

// The proxy libcurl would take from the environment for http:// or https:// URLs, "" for
// none: http_proxy (never HTTP_PROXY, which a CGI request can set), or https_proxy then
// HTTPS_PROXY; then all_proxy and ALL_PROXY. The first one set counts, even empty (lib/url.c,
// detect_proxy).
std::string EnvironmentProxy(bool https) {
  std::optional<std::string> proxy =
      https ? Environment({"https_proxy", "HTTPS_PROXY"}) : Environment({"http_proxy"});
  if (!proxy) proxy = Environment({"all_proxy", "ALL_PROXY"});
  return proxy.value_or("");
}

// Where Linux distributions keep their CA bundle (the list Go's crypto/x509 searches): a
// libcurl built on one distribution (as bundled in the wheel) knows only its own path.
constexpr std::array<const char*, 6> kSystemCaFiles = {
    "/etc/ssl/certs/ca-certificates.crt",                 // Debian, Ubuntu, Gentoo, Arch
    "/etc/pki/tls/certs/ca-bundle.crt",                   // Fedora, RHEL 6
    "/etc/ssl/ca-bundle.pem",                             // openSUSE
    "/etc/pki/tls/cacert.pem",                            // OpenELEC
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",  // CentOS, RHEL 7+
    "/etc/ssl/cert.pem",                                  // Alpine
};

// The CA file servers are verified with when no ca_bundle is given: SSL_CERT_FILE when set
// (OpenSSL's and Python's ssl convention), else libcurl's built-in default (Debian:
// /etc/ssl/certs/ca-certificates.crt) when that file exists, else the first system bundle
// found; "" leaves libcurl to its own defaults.
std::string DefaultCaFile() {
  if (std::optional<std::string> file = Environment({"SSL_CERT_FILE"}); file && !file->empty()) {
    return *file;
  }
  std::error_code error;
  EasyHandle probe(curl_easy_init());
  char* builtin = nullptr;
  if (probe && curl_easy_getinfo(probe.get(), CURLINFO_CAINFO, &builtin) == CURLE_OK &&
      builtin != nullptr && std::filesystem::is_regular_file(builtin, error)) {
    return builtin;
  }
  for (const char* path : kSystemCaFiles) {
    if (std::filesystem::is_regular_file(path, error)) return path;
  }
  return "";
}

// Appends `line` to `list` (left as it was if libcurl cannot allocate).
void AppendLine(curl_slist*& list, const std::string& line) {
  curl_slist* grown = curl_slist_append(list, line.c_str());
  if (grown != nullptr) list = grown;
}

// Appends "Authorization: Basic base64(user:password)" to `list`; the strings that held the
// credentials are wiped.
void AppendBasicAuthorization(curl_slist*& list, std::string_view user,
                              std::string_view password) {
  std::string plain;
  plain.reserve(user.size() + 1 + password.size());
  plain.append(user).append(1, ':').append(password);
  std::string encoded = twiliocore::internal::Base64(plain);
  constexpr std::string_view kPrefix = "Authorization: Basic ";
  std::string line;
  line.reserve(kPrefix.size() + encoded.size());
  line.append(kPrefix).append(encoded);
  AppendLine(list, line);
  for (std::string* secret : {&plain, &encoded, &line}) {
    OPENSSL_cleanse(secret->data(), secret->size());
  }
}

class EngineImpl {
 public:
  explicit EngineImpl(EngineOptions options) : options_(std::move(options)) {
    GlobalInitOnce();
    if (options_.user_agent.empty()) options_.user_agent = DefaultUserAgent();
    // The proxy for each scheme and the hosts that bypass it, read once here: left to
    // libcurl, up to six environment variables are looked up on every transfer.
    http_proxy_ = options_.proxy.empty() ? EnvironmentProxy(false) : options_.proxy;
    https_proxy_ = options_.proxy.empty() ? EnvironmentProxy(true) : options_.proxy;
    no_proxy_ = Environment({"no_proxy", "NO_PROXY"}).value_or("");
    ca_file_ = options_.ca_bundle.empty() ? DefaultCaFile() : options_.ca_bundle;
    if (!http_proxy_.empty() || !https_proxy_.empty()) {
      const std::string agent = "User-Agent: " + options_.user_agent;
      proxy_headers_.reset(curl_slist_append(nullptr, agent.c_str()));
    }
    // TLS sessions are shared by all of the engine's handles: a new connection resumes the
    // session of an earlier one to the same server (about half the CPU of a full handshake,
    // and a round trip less with TLS 1.2), where each handle alone would only resume its
    // own. Only the engine thread uses the handles, so the share needs no lock callbacks.
    share_.reset(curl_share_init());
    if (!share_) throw std::runtime_error("curl_share_init failed");
    curl_share_setopt(share_.get(), CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
    multi_.reset(curl_multi_init());
    if (!multi_) throw std::runtime_error("curl_multi_init failed");
    curl_multi_setopt(multi_.get(), CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
    if (options_.max_idle_connections > 0) {
      curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS, options_.max_idle_connections);
    }
    if (options_.max_host_connections > 0) {
      curl_multi_setopt(multi_.get(), CURLMOPT_MAX_HOST_CONNECTIONS,
                        options_.max_host_connections);
    }
    thread_ = std::thread([this] {
      NameCurrentThread("twiliocore-http");
      Loop();
    });
    loop_thread_id_ = thread_.get_id();
  }

  ~EngineImpl() { Shutdown(); }
  EngineImpl(const EngineImpl&) = delete;
  EngineImpl& operator=(const EngineImpl&) = delete;

  RequestId Submit(Request request, Callback callback) {
    auto transfer = std::make_unique<Transfer>();
    transfer->request = std::move(request);
    transfer->callback = std::move(callback);
    transfer->response.url = StripCredentials(transfer->request.url);
    transfer->response.method = transfer->request.method;
    {
      std::lock_guard lock(mutex_);
      if (!stopping_) {
        const RequestId id = ++next_id_;
        transfer->id = id;
        // The loop takes the whole queue at once, so a non-empty queue already has a wakeup
        // pending: one wakeup per batch of submissions, not per request.
        const bool wake = queue_.empty();
        queue_.push_back(std::move(transfer));
        ++submitted_;
        work_flagged_.store(true, std::memory_order_release);
        if (wake) curl_multi_wakeup(multi_.get());
        return id;
      }
    }
    // Shut down: complete at once, outside the lock, on the caller's thread.
    transfer->id = 0;
    SetCancelled(*transfer, "engine is shut down");
    Complete(std::move(transfer));
    return 0;
  }

  void Attach(std::shared_ptr<Feed> feed) {
    if (!feed) throw std::invalid_argument("feed: required");
    {
      std::lock_guard lock(mutex_);
      if (!stopping_) {
        feed_changes_.emplace_back(std::move(feed), true);
        work_flagged_.store(true, std::memory_order_release);
        curl_multi_wakeup(multi_.get());
        return;
      }
    }
    feed->Stopped();  // shut down: nothing will ever be pulled
  }

  void Detach(const std::shared_ptr<Feed>& feed) {
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    feed_changes_.emplace_back(feed, false);
    work_flagged_.store(true, std::memory_order_release);
    curl_multi_wakeup(multi_.get());
  }

  void Poke() noexcept {
    // seq_cst with the loop's store to polling_ and exchange of feed_work_ (Dekker): either
    // the loop sees the work before it polls, or this sees it polling and wakes it.
    feed_work_.store(true);
    if (polling_.load()) curl_multi_wakeup(multi_.get());
  }

  void Cancel(RequestId id) {
    if (id == 0) return;
    std::lock_guard lock(mutex_);
    if (stopping_) return;
    cancels_.push_back(id);
    work_flagged_.store(true, std::memory_order_release);
    curl_multi_wakeup(multi_.get());
  }

  void Shutdown() {
    {
      std::lock_guard lock(mutex_);
      if (!stopping_) {
        stopping_ = true;
        work_flagged_.store(true, std::memory_order_release);
        curl_multi_wakeup(multi_.get());
      }
    }
    std::lock_guard join_lock(join_mutex_);
    if (thread_.joinable()) {
      if (thread_.get_id() == std::this_thread::get_id()) {
        // Called from a callback: the loop ends after this iteration; it cannot join
        // itself. The owner's destructor must then run on another thread.
        thread_.detach();
        return;
      }
      thread_.join();
    }
  }

  bool running() const noexcept { return !stopping_.load(); }

  bool OnEngineThread() const noexcept { return std::this_thread::get_id() == loop_thread_id_; }

  EngineStats Stats() const {
    EngineStats s;
    s.submitted = submitted_.load();
    s.completed = completed_.load();
    s.failed = failed_.load();
    s.connections_opened = connections_.load();
    s.in_flight = s.submitted - std::min(s.submitted, s.completed);
    return s;
  }

  const EngineOptions& options() const noexcept { return options_; }

 private:
  // --- loop thread only -----------------------------------------------------------------

  void Loop() {
    std::vector<std::unique_ptr<Transfer>> done;
    // Swapped with the producers' queues when work is flagged, emptied after each pass: kept
    // across passes, so a pass allocates nothing (a std::deque allocates when it is made).
    std::deque<std::unique_ptr<Transfer>> incoming;
    std::vector<RequestId> cancels;
    std::vector<std::pair<std::shared_ptr<Feed>, bool>> feed_changes;
    for (;;) {
      incoming.clear();
      cancels.clear();
      feed_changes.clear();
      bool stopping = false;
      // The lock is taken only when a producer flagged work: the loop does not contend with
      // producers on iterations that only drive transfers.
      if (work_flagged_.exchange(false, std::memory_order_acquire)) {
        std::lock_guard lock(mutex_);
        incoming.swap(queue_);
        cancels.swap(cancels_);
        feed_changes.swap(feed_changes_);
        stopping = stopping_.load();
      }
      for (auto& [feed, attach] : feed_changes) ChangeFeed(std::move(feed), attach);
      for (auto& transfer : incoming) Start(std::move(transfer), done);
      for (RequestId id : cancels) {
        // Linear: cancels are rare and the active set is the requests in flight.
        auto it = std::find_if(active_.begin(), active_.end(),
                               [id](const auto& transfer) { return transfer->id == id; });
        if (it == active_.end()) continue;
        std::unique_ptr<Transfer> transfer = Detach(**it);
        SetCancelled(*transfer, "request cancelled");
        done.push_back(std::move(transfer));
      }
      if (stopping) {
        while (!active_.empty()) {
          std::unique_ptr<Transfer> transfer = Detach(*active_.back());
          SetCancelled(*transfer, "engine shut down with the request in flight");
          done.push_back(std::move(transfer));
        }
        RunCallbacks(done);
        // Requests queued between the swap above and stopping_ are drained here.
        std::deque<std::unique_ptr<Transfer>> rest;
        {
          std::lock_guard lock(mutex_);
          rest.swap(queue_);
        }
        for (auto& transfer : rest) {
          SetCancelled(*transfer, "engine shut down before the request started");
          done.push_back(std::move(transfer));
        }
        RunCallbacks(done);
        // Feeds attached too late for the loop to see, then every feed: what they have ready
        // was never started; they are told no more will be pulled.
        {
          std::lock_guard lock(mutex_);
          for (auto& [feed, attach] : feed_changes_) {
            if (attach) ChangeFeed(std::move(feed), true);
          }
          feed_changes_.clear();
        }
        for (auto& state : feeds_) StopFeed(*state);
        pool_.clear();
        feeds_.clear();
        return;
      }
      for (auto& state : feeds_) Pump(*state, done);

      int running = 0;
      curl_multi_perform(multi_.get(), &running);
      int queued = 0;
      while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &queued)) {
        if (msg->msg != CURLMSG_DONE) continue;
        Transfer* raw = nullptr;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &raw);
        const CURLcode code = msg->data.result;
        std::unique_ptr<Transfer> transfer = Detach(*raw);
        Finish(*transfer, code);
        if (FeedState* state = transfer->feed) {
          // A feed's slot is answered and refilled at once, as curl's 10-at-a-time.c does.
          Complete(std::move(transfer));
          Pump(*state, done);
        } else {
          done.push_back(std::move(transfer));
        }
      }
      // Callbacks run here, with no engine mutex held (they may Submit or Cancel).
      RunCallbacks(done);
      FlushFeeds();
      // Idle: no pooled handle keeps credentials or settings while nothing is in flight.
      if (active_.empty()) ResetPool();
      PruneFeeds();
      polling_.store(true);  // seq_cst: see Poke
      if (!feed_work_.exchange(false)) curl_multi_poll(multi_.get(), nullptr, 0, 1000, nullptr);
      polling_.store(false);
    }
  }

  /// Resets every configured pooled handle (dropping libcurl's copy of the password).
  void ResetPool() {
    for (PooledHandle& pooled : pool_) {
      if (!pooled.configured) continue;
      curl_easy_reset(pooled.easy.get());
      pooled.header_list.reset();
      pooled.url = HandleUrl{};
      pooled.setup = HandleSetup{};
      pooled.configured = false;
    }
  }

  /// Removes an active transfer from the multi handle and from `active_` (swapping the last
  /// one into its slot) and hands over its ownership.
  std::unique_ptr<Transfer> Detach(Transfer& active) {
    const std::size_t index = active.active_index;
    std::unique_ptr<Transfer> transfer = std::move(active_[index]);
    if (index + 1 != active_.size()) {
      active_[index] = std::move(active_.back());
      active_[index]->active_index = index;
    }
    active_.pop_back();
    curl_multi_remove_handle(multi_.get(), transfer->easy.get());
    return transfer;
  }

  void Start(std::unique_ptr<Transfer> transfer, std::vector<std::unique_ptr<Transfer>>& done) {
    Transfer& t = *transfer;
    const Request& r = t.request;
    if (!r.url.starts_with("http://") && !r.url.starts_with("https://")) {
      SetError(t, ErrorCategory::kInvalidArgument, TransportStage::kNone,
               "url must start with http:// or https://");
      done.push_back(std::move(transfer));
      return;
    }
    HandleSetup::Derived derived;
    derived.https = IsHttps(r.url);
    derived.has_body =
        r.method == "POST" || r.method == "PUT" || r.method == "PATCH" || !r.body.empty();
    derived.large_body = r.body.size() >= kExpectThreshold;
    derived.connect_ms =
        static_cast<long>(r.connect_timeout.value_or(options_.connect_timeout).count());
    derived.total_ms = static_cast<long>(r.total_timeout.value_or(options_.total_timeout).count());
    if (t.easy) {
      // A feed's slot keeps its handle between requests; other settings start afresh.
      if (t.configured && !t.setup.Matches(r, derived)) {
        curl_easy_reset(t.easy.get());
        t.header_list.reset();
        t.configured = false;
        t.bound = false;
        t.url = HandleUrl{};
      }
    } else if (!pool_.empty()) {
      // Most recently pooled first; a handle configured for the same settings keeps them.
      std::size_t pick = pool_.size() - 1;
      for (std::size_t i = pool_.size(); i-- > 0;) {
        if (pool_[i].configured && pool_[i].setup.Matches(r, derived)) {
          pick = i;
          break;
        }
      }
      PooledHandle& pooled = pool_[pick];
      t.easy = std::move(pooled.easy);
      if (pooled.configured && pooled.setup.Matches(r, derived)) {
        t.header_list = std::move(pooled.header_list);
        t.setup = std::move(pooled.setup);
        t.configured = true;
        t.url = std::move(pooled.url);
      } else if (pooled.configured) {
        curl_easy_reset(t.easy.get());  // frees the strings it held, the password among them
      }
      if (pick != pool_.size() - 1) std::swap(pool_[pick], pool_.back());
      pool_.pop_back();
    } else {
      t.easy.reset(curl_easy_init());
    }
    if (!t.configured) t.setup = HandleSetup::For(r, derived);
    if (!t.easy) {
      SetError(*transfer, ErrorCategory::kTransport, TransportStage::kConnect,
               "cannot create a curl handle");
      done.push_back(std::move(transfer));
      return;
    }
    if (!Configure(*transfer)) {
      done.push_back(std::move(transfer));
      return;
    }
    if (curl_multi_add_handle(multi_.get(), transfer->easy.get()) != CURLM_OK) {
      SetError(*transfer, ErrorCategory::kTransport, TransportStage::kConnect,
               "cannot add the request to the curl multi handle");
      done.push_back(std::move(transfer));
      return;
    }
    transfer->active_index = active_.size();
    active_.push_back(std::move(transfer));
  }

  static std::size_t OnBody(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    std::string& body = transfer->response.body;
    if (body.empty()) {
      // One allocation for an answer of announced length (up to 1 MiB), not a regrowth series.
      curl_off_t length = -1;
      curl_easy_getinfo(transfer->easy.get(), CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
      if (length > 0 && length <= (curl_off_t{1} << 20)) body.reserve(static_cast<std::size_t>(length));
    }
    body.append(data, size * count);
    return size * count;
  }

  // libcurl resends a request on a fresh connection when a reused one dies after the request
  // went out and before any answer byte (lib/transfer.c Curl_retry_request) -- for a Twilio
  // create, possibly a second message. The pre-request callback runs once per attempt: a
  // second call means such a resend, and a POST is stopped there. The transfer then fails
  // with CURLE_ABORTED_BY_CALLBACK, reported as an ambiguous outcome the caller reconciles.
  static int OnPreRequest(void* user, char* /*conn_primary_ip*/, char* /*conn_local_ip*/,
                          int /*conn_primary_port*/, int /*conn_local_port*/) {
    auto* transfer = static_cast<Transfer*>(user);
    if (++transfer->attempts > 1 && transfer->request.method == "POST") {
      return CURL_PREREQFUNC_ABORT;
    }
    return CURL_PREREQFUNC_OK;
  }

  static std::size_t OnHeader(char* data, std::size_t size, std::size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    const std::string_view line(data, size * count);
    if (line.starts_with("HTTP/")) {
      // A new status line (after 100 Continue, a redirect or a proxy CONNECT): keep only
      // the headers of the final answer.
      transfer->response.headers.clear();
      return size * count;
    }
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      transfer->response.headers.emplace_back(ascii::ToLower(Trim(line.substr(0, colon))),
                                              std::string(Trim(line.substr(colon + 1))));
    }
    return size * count;
  }

  /// Whether the request's body goes to libcurl as CURLOPT_POSTFIELDS.
  static bool SendsPostFields(const Transfer& t) {
    return t.setup.has_body && t.request.method != "GET" && t.request.method != "HEAD";
  }

  /// Sets `url` on the transfer's handle, as text and parsed. Given only as text, libcurl
  /// parses the URL and prints it back, a character at a time, on every transfer
  /// (parseurlandfillconn in lib/url.c, about 20,000 instructions for a Messages URL); given
  /// a CURLU too (CURLOPT_CURLU), it copies that. A URL the parser refuses is left as text to
  /// libcurl, which reports it as it always did.
  static void SetUrl(Transfer& t, const std::string& url) {
    CURL* h = t.easy.get();
    curl_easy_setopt(h, CURLOPT_URL, url.c_str());
    UrlHandle parsed(curl_url());
    if (parsed && curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(),
                               CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK) {
      parsed.reset();
    }
    curl_easy_setopt(h, CURLOPT_CURLU, parsed.get());  // before the old one is freed
    t.url.parsed = std::move(parsed);
    t.url.text = url;
  }

  /// Sets what changes with every request, then (for a handle not already configured for
  /// `t.setup`) everything else.
  bool Configure(Transfer& t) {
    CURL* h = t.easy.get();
    const Request& r = t.request;
    // Options persist on a handle between transfers: what has not changed is not set again
    // (each CURLOPT_URL is a copy and a parse in libcurl).
    if (!t.bound) {
      curl_easy_setopt(h, CURLOPT_PRIVATE, &t);
      curl_easy_setopt(h, CURLOPT_ERRORBUFFER, t.error_buffer);
      curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
      if (t.setup.keep_headers) curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
      curl_easy_setopt(h, CURLOPT_PREREQDATA, &t);
      t.bound = true;
    }
    if (t.url.text != r.url) SetUrl(t, r.url);
    if (SendsPostFields(t)) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, r.body.c_str());
    }
    if (t.configured) return true;
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(h, CURLOPT_PIPEWAIT, t.setup.https ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(h, CURLOPT_SHARE, share_.get());
    // Buffers sized for Twilio's answers (a Message is about 1 KB): 4 KB to receive instead
    // of 16 KB, and the smallest upload buffer, 16 KB instead of the 64 KB that libcurl
    // allocates for every HTTP/2 request. A larger answer (a page of a list) takes more reads.
    curl_easy_setopt(h, CURLOPT_BUFFERSIZE, kReceiveBufferBytes);
    curl_easy_setopt(h, CURLOPT_UPLOAD_BUFFERSIZE, kUploadBufferBytes);
    if (t.setup.compressed) curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &EngineImpl::OnBody);
    // Without a header callback (and header data) libcurl still parses the headers, but hands
    // none over; Retry-After is then read with CURLINFO_RETRY_AFTER.
    if (t.setup.keep_headers) curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &EngineImpl::OnHeader);
    curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, &EngineImpl::OnPreRequest);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, t.setup.connect_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, t.setup.total_ms);
    if (!ca_file_.empty()) {
      // A CA file and no CA directory (Debian's libcurl has both by default): libcurl then
      // loads the file into one certificate store per engine and shares it between the
      // connections (CURLOPT_CA_CACHE_TIMEOUT, 24 h). With a directory as well it loads the
      // whole file again for every connection: about 0.9 MB and 30 ms of CPU each with
      // Debian's bundle. A given ca_bundle is then also the only trust, as in requests.
      curl_easy_setopt(h, CURLOPT_CAINFO, ca_file_.c_str());
      curl_easy_setopt(h, CURLOPT_CAPATH, nullptr);
    }
    if (options_.insecure) {
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    // The proxy resolved when the engine was made ("" = none: libcurl then reads no
    // environment variable on the transfer).
    const std::string& proxy = t.setup.https ? https_proxy_ : http_proxy_;
    curl_easy_setopt(h, CURLOPT_PROXY, proxy.c_str());
    curl_easy_setopt(h, CURLOPT_NOPROXY, no_proxy_.c_str());
    if (!proxy.empty()) {
      // The header list below carries the Authorization line: it goes to the server only,
      // never into a proxy's CONNECT, which gets the agent alone.
      curl_easy_setopt(h, CURLOPT_HEADEROPT, static_cast<long>(CURLHEADER_SEPARATE));
      curl_easy_setopt(h, CURLOPT_PROXYHEADER, proxy_headers_.get());
    }
    if (r.method == "GET") {
      curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (r.method == "HEAD") {
      curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
      if (r.method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
      // The body itself is set above, with every request.
    }
    curl_slist* list = nullptr;
    auto append = [&list](const std::string& line) { AppendLine(list, line); };
    // "Expect: 100-continue" (which libcurl adds to a large HTTP/1.1 body) costs a round trip;
    // Twilio does not need it. Every header line costs libcurl formatting work on every
    // transfer, so the line that suppresses it is added only where it would be sent.
    if (t.setup.large_body) append("Expect:");
    // A body given as CURLOPT_POSTFIELDS gets "Content-Type: application/x-www-form-urlencoded"
    // from libcurl when the list has none, copied as one literal; a line of the list is
    // printed into the request a character at a time on every transfer (lib/http.c, about
    // 110 instructions a character in libcurl 7.88). Same line on the wire.
    const bool form_fields = SendsPostFields(t);
    for (const auto& [name, value] : r.headers) {
      if (form_fields && value == "application/x-www-form-urlencoded" &&
          ascii::EqualsIgnoreCase(name, "content-type")) {
        continue;
      }
      append(value.empty() ? name + ";" : name + ": " + value);
    }
    // The User-Agent and Accept-Encoding lines are set here, once per configured handle:
    // libcurl would format its own copy of each line on every transfer (CURLOPT_USERAGENT is
    // printed into a new string in every transfer's set-up, about 6,000 instructions, even
    // when a header of that name replaces it). CURLOPT_ACCEPT_ENCODING above stays for the
    // decoding of compressed answers (lib/http.c leaves a header the application sets to the
    // application). A proxy's CONNECT gets the agent from CURLOPT_PROXYHEADER. Same lines on
    // the wire; a caller's own header of either name still wins.
    if (FindHeader(r.headers, "user-agent") == nullptr) append("User-Agent: " + options_.user_agent);
    // HTTP Basic credentials as a header line of the handle, encoded once here: given as
    // CURLOPT_USERNAME/PASSWORD, libcurl would print and encode them into a new line on every
    // transfer (about 27,000 instructions by callgrind). Never in the URL (which appears in
    // messages).
    if (!r.username.empty() && FindHeader(r.headers, "authorization") == nullptr) {
      AppendBasicAuthorization(list, r.username, r.password.view());
    }
    if (t.setup.compressed && !AcceptEncodingHeader().empty() &&
        FindHeader(r.headers, "accept-encoding") == nullptr) {
      append(AcceptEncodingHeader());
    }
    t.header_list.reset(list);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    t.configured = true;
    return true;
  }

  void Finish(Transfer& t, CURLcode code) {
    CURL* h = t.easy.get();
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    long connects = 0;
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
    curl_off_t connect_us = 0;
    curl_off_t appconnect_us = 0;
    curl_off_t total_us = 0;
    curl_easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_us);
    curl_easy_getinfo(h, CURLINFO_APPCONNECT_TIME_T, &appconnect_us);
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total_us);
    t.response.new_connections = connects;
    long version = 0;
    curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
    switch (version) {
      case CURL_HTTP_VERSION_1_0: t.response.http_version = 10; break;
      case CURL_HTTP_VERSION_1_1: t.response.http_version = 11; break;
      case CURL_HTTP_VERSION_2_0: t.response.http_version = 20; break;
      case CURL_HTTP_VERSION_3: t.response.http_version = 30; break;
      default: t.response.http_version = 0; break;
    }
    t.response.connect_time = std::chrono::microseconds(connect_us);
    t.response.total_time = std::chrono::microseconds(total_us);
    connections_ += static_cast<std::uint64_t>(std::max(0L, connects));
    if (code == CURLE_OK) {
      t.response.status = status;
      if (!t.setup.keep_headers && (status < 200 || status >= 300)) {
        curl_off_t retry_after = 0;
        if (curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
            retry_after > 0) {
          t.response.headers.emplace_back("retry-after", std::to_string(retry_after));
        }
      }
      return;
    }
    long os_errno = 0;
    curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
    const bool connected = connect_us > 0 || status != 0;
    const bool tls_done = !IsHttps(t.request.url) || appconnect_us > 0;
    ErrorCategory category = ErrorCategory::kTransport;
    TransportStage stage = TransportStage::kReceive;
    std::string what;
    switch (code) {
      case CURLE_COULDNT_RESOLVE_HOST:
        stage = TransportStage::kResolve;
        what = "could not resolve host";
        break;
      case CURLE_COULDNT_RESOLVE_PROXY:
        stage = TransportStage::kResolve;
        what = "could not resolve proxy";
        break;
      case CURLE_COULDNT_CONNECT:
        stage = TransportStage::kConnect;
        what = os_errno == ECONNREFUSED ? "connection refused" : "could not connect";
        break;
      case CURLE_OPERATION_TIMEDOUT:
        category = ErrorCategory::kTimeout;
        stage = !connected  ? TransportStage::kConnect
                : !tls_done ? TransportStage::kTls
                            : TransportStage::kReceive;
        what = stage == TransportStage::kConnect ? "connect timed out" : "request timed out";
        break;
      case CURLE_SSL_CONNECT_ERROR:
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CERTPROBLEM:
      case CURLE_SSL_CIPHER:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_ISSUER_ERROR:
      case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
      case CURLE_SSL_CRL_BADFILE:
      case CURLE_SSL_ENGINE_NOTFOUND:
      case CURLE_SSL_ENGINE_SETFAILED:
      case CURLE_SSL_ENGINE_INITFAILED:
      case CURLE_SSL_INVALIDCERTSTATUS:
        category = ErrorCategory::kTls;
        stage = TransportStage::kTls;
        what = "TLS failure";
        break;
      case CURLE_SEND_ERROR:
        stage = TransportStage::kSend;
        what = "send failed";
        break;
      case CURLE_GOT_NOTHING:
        what = "server closed the connection without answering";
        break;
      case CURLE_ABORTED_BY_CALLBACK:  // see OnPreRequest: sent, no answer, not resent
        what = t.attempts > 1 ? "connection lost after the request was sent (not resent)"
                              : "aborted";
        break;
      case CURLE_RECV_ERROR:
        what = "receive failed";
        break;
      case CURLE_PARTIAL_FILE:
        what = "answer cut short";
        break;
      case CURLE_URL_MALFORMAT:
      case CURLE_UNSUPPORTED_PROTOCOL:
        category = ErrorCategory::kInvalidArgument;
        stage = TransportStage::kNone;
        what = "invalid url";
        break;
      default:
        stage = connected ? TransportStage::kReceive : TransportStage::kConnect;
        what = curl_easy_strerror(code);
        break;
    }
    std::string detail = t.error_buffer[0] != '\0' ? t.error_buffer : curl_easy_strerror(code);
    SetError(t, category, stage, what + ": " + t.response.url + " (" + std::string(Trim(detail)) + ")");
  }

  static void SetError(Transfer& t, ErrorCategory category, TransportStage stage,
                       std::string message) {
    Error& e = t.response.error;
    e.category = category;
    e.stage = stage;
    e.message = std::move(message);
    e.url = t.response.url;
    e.method = t.request.method;
    t.response.status = 0;
  }

  static void SetCancelled(Transfer& t, std::string_view why) {
    SetError(t, ErrorCategory::kCancelled, TransportStage::kNone,
             std::string(why) + ": " + t.response.method + " " + t.response.url);
  }

  void RunCallbacks(std::vector<std::unique_ptr<Transfer>>& done) {
    for (auto& transfer : done) Complete(std::move(transfer));
    done.clear();
  }

  /// Delivers the response and recycles the easy handle. Called without mutex_ held.
  void Complete(std::unique_ptr<Transfer> transfer) {
    if (transfer->response.error) ++failed_;
    ++completed_;
    if (transfer->feed != nullptr) {
      CompleteFeed(std::move(transfer));
      return;
    }
    // A configured handle goes back to the pool as it is (the next request with the same
    // settings only sets its URL and body); the loop resets pooled handles when it goes
    // idle, so the password copy inside curl does not linger in an idle pooled handle.
    if (transfer->easy && pool_.size() < kMaxPooledHandles) {
      PooledHandle pooled;
      pooled.easy = std::move(transfer->easy);
      pooled.configured = transfer->configured;
      if (pooled.configured) {
        pooled.header_list = std::move(transfer->header_list);
        pooled.setup = std::move(transfer->setup);
        pooled.url = std::move(transfer->url);
      } else {
        curl_easy_reset(pooled.easy.get());
      }
      pool_.push_back(std::move(pooled));
    }
    transfer->header_list.reset();
    Callback callback = std::move(transfer->callback);
    Response response = std::move(transfer->response);
    transfer.reset();
    if (!callback) return;
    try {
      callback(std::move(response));
    } catch (...) {
      // Callbacks must not throw; one that does must not take the loop down.
    }
  }

  /// Hands a feed slot's outcome to its feed, then readies the slot for the next request
  /// (buffers keep their capacity, the handle stays configured).
  void CompleteFeed(std::unique_ptr<Transfer> transfer) {
    FeedState& state = *transfer->feed;
    --state.in_flight;
    try {
      state.feed->Done(transfer->tag, transfer->response);
    } catch (...) {
      // Like callbacks: a feed that throws must not take the loop down.
    }
    Response& response = transfer->response;
    response.status = 0;
    response.headers.clear();
    response.body.clear();
    if (response.error) response.error = Error{};
    response.new_connections = 0;
    response.http_version = 0;
    transfer->attempts = 0;
    transfer->error_buffer[0] = '\0';
    if (!state.detached && transfer->easy) state.idle.push_back(std::move(transfer));
  }

  /// Starts requests from `state`'s feed while it has them.
  void Pump(FeedState& state, std::vector<std::unique_ptr<Transfer>>& done) {
    while (!state.detached && state.in_flight < state.feed->Limit()) {
      std::unique_ptr<Transfer> transfer;
      if (!state.idle.empty()) {
        transfer = std::move(state.idle.back());
        state.idle.pop_back();
      } else {
        transfer = std::make_unique<Transfer>();
        transfer->feed = &state;
      }
      bool ready = false;
      try {
        ready = state.feed->Next(transfer->request, transfer->tag);
      } catch (...) {
        ready = false;
      }
      if (!ready) {
        state.idle.push_back(std::move(transfer));
        return;
      }
      Request& r = transfer->request;
      Response& response = transfer->response;
      // Credentials never go into URLs the engine builds, so the stripped URL is usually the
      // URL itself: copied only when it changes.
      if (response.url != r.url) response.url = StripCredentials(r.url);
      if (response.method != r.method) response.method = r.method;
      ++submitted_;
      ++state.in_flight;
      Start(std::move(transfer), done);
    }
  }

  void ChangeFeed(std::shared_ptr<Feed> feed, bool attach) {
    auto it = std::find_if(feeds_.begin(), feeds_.end(),
                           [&feed](const auto& state) { return state->feed == feed; });
    if (attach) {
      if (it != feeds_.end()) {
        (*it)->detached = false;
        return;
      }
      auto state = std::make_unique<FeedState>();
      state->feed = std::move(feed);
      feeds_.push_back(std::move(state));
    } else if (it != feeds_.end()) {
      (*it)->detached = true;
      (*it)->idle.clear();
    }
  }

  /// At shutdown: answers every request `state`'s feed still has ready as cancelled (never
  /// started), hands the outcomes over and tells the feed that nothing more will be pulled.
  static void StopFeed(FeedState& state) {
    Request request;
    std::uint64_t tag = 0;
    try {
      while (!state.detached && state.feed->Next(request, tag)) {
        Response response;
        response.url = StripCredentials(request.url);
        response.method = request.method;
        Error& e = response.error;
        e.category = ErrorCategory::kCancelled;
        e.stage = TransportStage::kNone;
        e.message = "engine shut down before the request started: " + response.method + " " +
                    response.url;
        e.url = response.url;
        e.method = response.method;
        state.feed->Done(tag, response);
      }
      state.feed->Flush();
    } catch (...) {
    }
    state.feed->Stopped();
  }

  void FlushFeeds() {
    for (auto& state : feeds_) {
      try {
        state->feed->Flush();
      } catch (...) {
      }
    }
  }

  /// Drops detached feeds once nothing of theirs is in flight.
  void PruneFeeds() {
    std::erase_if(feeds_, [](const auto& state) { return state->detached && state->in_flight == 0; });
  }

  static constexpr std::size_t kMaxPooledHandles = 64;
  /// Body size from which a line suppressing "Expect: 100-continue" is sent: libcurl adds the
  /// header above 1 MiB today (lib/http.c EXPECT_100_THRESHOLD) and above 1 KiB in older
  /// releases; the lower bound is safe for both.
  static constexpr std::size_t kExpectThreshold = 1000;

  EngineOptions options_;
  std::string http_proxy_;     // the proxy of http:// URLs; "" = none
  std::string https_proxy_;    // the proxy of https:// URLs; "" = none
  std::string ca_file_;        // the CA file TLS connections verify with; see Configure
  std::string no_proxy_;       // hosts reached without the proxy (CURLOPT_NOPROXY)
  SlistHandle proxy_headers_;  // a proxy's CONNECT: the agent only (outlives every handle)
  ShareHandle share_;          // the TLS session cache of every handle (outlives them all)
  MultiHandle multi_;

  mutable std::mutex mutex_;  // guards queue_, cancels_, stopping_, next_id_
  std::deque<std::unique_ptr<Transfer>> queue_;
  std::vector<RequestId> cancels_;
  std::atomic<bool> stopping_{false};  // written under mutex_, read lock-free by running()
  std::atomic<bool> work_flagged_{false};  // set under mutex_ with every queued item
  std::vector<std::pair<std::shared_ptr<Feed>, bool>> feed_changes_;  // (feed, attach), under mutex_
  std::atomic<bool> feed_work_{false};  // Poke: a feed has requests ready
  std::atomic<bool> polling_{false};    // the loop is in (or entering) curl_multi_poll
  RequestId next_id_ = 0;

  std::mutex join_mutex_;  // serialises Shutdown's join
  std::thread thread_;
  std::thread::id loop_thread_id_;  // set once in the constructor, read by OnEngineThread

  // Loop thread only.
  std::vector<std::unique_ptr<Transfer>> active_;  // in the multi handle; see Transfer::active_index
  std::vector<PooledHandle> pool_;
  std::vector<std::unique_ptr<FeedState>> feeds_;

  std::atomic<std::uint64_t> submitted_{0};
  std::atomic<std::uint64_t> completed_{0};
  std::atomic<std::uint64_t> failed_{0};
  std::atomic<std::uint64_t> connections_{0};
};

}  // namespace internal

// --- free functions -----------------------------------------------------------------------

std::string DefaultUserAgent() {
  internal::GlobalInitOnce();
  std::string os = "unknown";
  std::string arch = "unknown";
  utsname names{};
  if (uname(&names) == 0) {
    os = names.sysname;
    arch = names.machine;
  }
  const curl_version_info_data* info = curl_version_info(CURLVERSION_NOW);
  return std::string("twiliocore/") + kVersion + " (" + os + " " + arch + ") libcurl/" +
         (info != nullptr && info->version != nullptr ? info->version : "unknown");
}

std::string StripCredentials(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const std::size_t start = scheme + 3;
  const std::size_t end = url.find_first_of("/?#", start);
  const std::string_view authority =
      url.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
  const std::size_t at = authority.rfind('@');
  if (at == std::string_view::npos) return std::string(url);
  std::string out(url.substr(0, start));
  out.append(url.substr(start + at + 1));
  return out;
}

const std::string* FindHeader(const Headers& headers, std::string_view name) noexcept {
  for (const auto& [key, value] : headers) {
    if (ascii::EqualsIgnoreCase(key, name)) return &value;
  }
  return nullptr;
}

std::string Response::Header(std::string_view name) const {
  const std::string* value = FindHeader(headers, name);
  return value != nullptr ? *value : std::string();
}

// --- Pending --------------------------------------------------------------------------------

bool Pending::Ready() const {
  if (!state_) return false;
  std::lock_guard lock(state_->mu);
  return state_->ready;
}

bool Pending::WaitFor(std::chrono::milliseconds timeout) const {
  if (!state_) return false;
  std::unique_lock lock(state_->mu);
  return state_->cv.wait_for(lock, timeout, [this] { return state_->ready; });
}

void Pending::Wait() const {
  if (!state_) return;
  std::unique_lock lock(state_->mu);
  state_->cv.wait(lock, [this] { return state_->ready; });
}

Response Pending::Take() {
  if (!state_) throw std::logic_error("Pending::Take on an empty handle");
  std::unique_lock lock(state_->mu);
  state_->cv.wait(lock, [this] { return state_->ready; });
  if (state_->taken) throw std::logic_error("Pending::Take called twice");
  state_->taken = true;
  return std::move(state_->response);
}

// --- Engine ---------------------------------------------------------------------------------

Engine::Engine(EngineOptions options)
    : impl_(std::make_unique<internal::EngineImpl>(std::move(options))) {}

Engine::~Engine() { Shutdown(); }

RequestId Engine::Submit(Request request, Callback callback) {
  return impl_->Submit(std::move(request), std::move(callback));
}

Pending Engine::Start(Request request) {
  Pending pending;
  pending.state_ = std::make_shared<internal::PendingState>();
  pending.id_ = impl_->Submit(std::move(request),
                              [state = pending.state_](Response&& response) {
                                {
                                  std::lock_guard lock(state->mu);
                                  state->response = std::move(response);
                                  state->ready = true;
                                }
                                state->cv.notify_all();
                              });
  return pending;
}

Response Engine::Perform(Request request) { return Start(std::move(request)).Take(); }

void Engine::Cancel(RequestId id) { impl_->Cancel(id); }

void Engine::Attach(std::shared_ptr<Feed> feed) { impl_->Attach(std::move(feed)); }

void Engine::Detach(const std::shared_ptr<Feed>& feed) { impl_->Detach(feed); }

void Engine::Poke() noexcept { impl_->Poke(); }

void Engine::Shutdown() { impl_->Shutdown(); }

bool Engine::running() const noexcept { return impl_->running(); }

bool Engine::OnEngineThread() const noexcept { return impl_->OnEngineThread(); }

EngineStats Engine::Stats() const { return impl_->Stats(); }

const EngineOptions& Engine::options() const noexcept { return impl_->options(); }

}  // namespace twiliocore::http
