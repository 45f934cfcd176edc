// The loopback HTTP/1.1 server used by the engine and client tests (see test_server.h).
// One thread per connection: simple and enough for tests; nothing here is fast.

#include "test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <stdexcept>
#include <string_view>

#include "twiliocore/ascii.h"

namespace twiliocore::testing {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
  }
}

bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

std::string RecordedRequest::Header(const std::string& name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

std::string RecordedRequest::Path() const { return target.substr(0, target.find('?')); }

TestServer::TestServer() {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::runtime_error("socket failed");
  const int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 512) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error("bind/listen failed");
  }
  socklen_t len = sizeof addr;
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  handler_ = [](const RecordedRequest&) { return Reply{}; };
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TestServer::~TestServer() {
  stopping_ = true;
  ::shutdown(listen_fd_, SHUT_RDWR);
  acceptor_.join();
  ::close(listen_fd_);
  std::vector<std::thread> workers;
  {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();
}

std::string TestServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

void TestServer::SetHandler(Handler handler) {
  std::lock_guard lock(mu_);
  handler_ = std::move(handler);
}

std::vector<RecordedRequest> TestServer::Requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void TestServer::Clear() {
  std::lock_guard lock(mu_);
  requests_.clear();
}

void TestServer::AcceptLoop() {
  while (!stopping_) {
    const int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) {
      if (stopping_) return;
      continue;
    }
    const int connection = ++connections_;
    std::lock_guard lock(mu_);
    open_fds_.push_back(fd);
    workers_.emplace_back([this, fd, connection] { Serve(fd, connection); });
  }
}

void TestServer::Serve(int fd, int connection) {
  std::string buffer;
  char chunk[16384];
  bool open = true;
  while (open && !stopping_) {
    // Read one request: head up to CRLFCRLF, then Content-Length bytes.
    std::size_t head_end = std::string::npos;
    while ((head_end = buffer.find("\r\n\r\n")) == std::string::npos) {
      // Anything that is not HTTP (a TLS ClientHello) gets the connection closed.
      if (!buffer.empty() && !std::isalpha(static_cast<unsigned char>(buffer[0]))) {
        open = false;
        break;
      }
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        open = false;
        break;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    if (!open) break;
    RecordedRequest request;
    request.connection = connection;
    const std::string_view head(buffer.data(), head_end);
    std::size_t line_end = head.find("\r\n");
    const std::string_view request_line = head.substr(0, line_end);
    const std::size_t sp1 = request_line.find(' ');
    const std::size_t sp2 = request_line.rfind(' ');
    request.method = std::string(request_line.substr(0, sp1));
    request.target = std::string(request_line.substr(sp1 + 1, sp2 - sp1 - 1));
    std::size_t content_length = 0;
    while (line_end != std::string_view::npos && line_end < head.size()) {
      const std::size_t next = head.find("\r\n", line_end + 2);
      const std::string_view line = head.substr(line_end + 2, next == std::string_view::npos
                                                                  ? std::string_view::npos
                                                                  : next - line_end - 2);
      const std::size_t colon = line.find(':');
      if (colon != std::string_view::npos) {
        std::string name = ascii::ToLower(Trim(line.substr(0, colon)));
        std::string value(Trim(line.substr(colon + 1)));
        if (name == "content-length") content_length = std::stoul(value);
        request.headers.emplace_back(std::move(name), std::move(value));
      }
      line_end = next;
    }
    buffer.erase(0, head_end + 4);
    while (buffer.size() < content_length) {
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) {
        open = false;
        break;
      }
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    if (!open) break;
    request.body = buffer.substr(0, content_length);
    buffer.erase(0, content_length);

    Handler handler;
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
      handler = handler_;
    }
    const Reply reply = handler(request);
    if (reply.delay.count() > 0) {
      // Sleep in slices so the destructor's shutdown() ends the wait early.
      const auto until = std::chrono::steady_clock::now() + reply.delay;
      while (!stopping_ && std::chrono::steady_clock::now() < until) {
        pollfd p{fd, POLLRDHUP, 0};
        if (::poll(&p, 1, 20) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) break;
      }
    }
    if (reply.close_without_answer) break;
    std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " " + Reason(reply.status) + "\r\n";
    for (const auto& [name, value] : reply.headers) out += name + ": " + value + "\r\n";
    if (reply.status != 204) out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
    if (reply.close_after) out += "Connection: close\r\n";
    out += "\r\n";
    if (reply.status != 204 && request.method != "HEAD") out += reply.body;
    if (!SendAll(fd, out) || reply.close_after) break;
  }
  ::shutdown(fd, SHUT_RDWR);
  std::lock_guard lock(mu_);
  open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
  ::close(fd);
}

}  // namespace twiliocore::testing
