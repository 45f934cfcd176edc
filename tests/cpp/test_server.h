#pragma once

/// @file
/// A small loopback HTTP/1.1 server for the engine and client tests: keep-alive,
/// scripted answers (status, headers, body, delay, close without answering), and a record
/// of every request received. Listens on 127.0.0.1 on a free port.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace twiliocore::testing {

/// A request as the server received it.
struct RecordedRequest {
  std::string method;
  std::string target;  ///< path and query, as sent
  std::vector<std::pair<std::string, std::string>> headers;  ///< names in lower case
  std::string body;
  int connection = 0;  ///< which accepted connection carried it (1, 2, ...)

  /// The first header value named `name` (lower case), or "".
  [[nodiscard]] std::string Header(const std::string& name) const;
  /// The path without the query.
  [[nodiscard]] std::string Path() const;
};

/// What the server does with one request.
struct Reply {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers{{"Content-Type", "text/plain"}};
  std::string body = "ok";
  std::chrono::milliseconds delay{0};  ///< wait before answering
  bool close_without_answer = false;   ///< read the request, then close the connection
  bool close_after = false;            ///< answer with Connection: close, then close
};

/// Counts requests a handler is serving at once and keeps the most seen. Thread-safe.
class ConcurrencyGauge {
 public:
  /// Ends one request when destroyed.
  class Guard {
   public:
    explicit Guard(std::atomic<int>& current) : current_(current) {}
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    ~Guard() { --current_; }

   private:
    std::atomic<int>& current_;
  };

  /// Call at the start of a handler; the returned guard ends the request.
  [[nodiscard]] Guard Enter() {
    const int now = ++current_;
    int seen = most_.load();
    while (now > seen && !most_.compare_exchange_weak(seen, now)) {
    }
    return Guard(current_);
  }
  [[nodiscard]] int most() const noexcept { return most_.load(); }

 private:
  std::atomic<int> current_{0};
  std::atomic<int> most_{0};
};

/// The loopback server. Starts in the constructor, stops in the destructor.
class TestServer {
 public:
  using Handler = std::function<Reply(const RecordedRequest&)>;

  TestServer();
  ~TestServer();
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  /// `http://127.0.0.1:<port>`.
  [[nodiscard]] std::string url() const;
  [[nodiscard]] int port() const noexcept { return port_; }
  /// Replaces the handler (default: 200 "ok"). Thread-safe.
  void SetHandler(Handler handler);
  /// Every request received so far.
  [[nodiscard]] std::vector<RecordedRequest> Requests() const;
  /// Connections accepted so far.
  [[nodiscard]] int Connections() const noexcept { return connections_.load(); }
  /// Forgets recorded requests (the connection count stays).
  void Clear();

 private:
  void AcceptLoop();
  void Serve(int fd, int connection);

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  Handler handler_;
  std::vector<RecordedRequest> requests_;
  std::vector<int> open_fds_;
  std::vector<std::thread> workers_;
  std::thread acceptor_;
};

}  // namespace twiliocore::testing
