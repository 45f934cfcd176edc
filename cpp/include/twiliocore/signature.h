#pragma once

/// @file
/// Twilio's `X-Twilio-Signature`: base64(HMAC-SHA1(auth token, URL + sorted params)),
/// and the `bodySHA256` variant Twilio uses for JSON webhooks. OpenSSL 3 (EVP_MAC).

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

// Forward declaration of OpenSSL's opaque MAC context, so this header does not pull
// in <openssl/evp.h>.
struct evp_mac_ctx_st;

namespace twiliocore {

/// A secret string (an auth token) whose bytes are wiped with `OPENSSL_cleanse` when it
/// is destroyed or assigned over. Move-only, so no stray copies are left behind; it
/// never prints itself.
class SecureString {
 public:
  SecureString() noexcept = default;
  /// Copies `value` into a private buffer.
  explicit SecureString(std::string_view value);
  ~SecureString();
  SecureString(const SecureString&) = delete;
  SecureString& operator=(const SecureString&) = delete;
  SecureString(SecureString&& other) noexcept;
  SecureString& operator=(SecureString&& other) noexcept;

  /// The secret; valid while this object lives and is not assigned.
  [[nodiscard]] std::string_view view() const noexcept { return {data_.get(), size_}; }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

 private:
  void Wipe() noexcept;

  std::unique_ptr<char[]> data_;
  std::size_t size_ = 0;
};

/// The HMAC a webhook is signed with. Auth-token signatures are always HMAC-SHA1;
/// webhooks signed with a SharedKey name theirs in `X-Twilio-Webhooks-Signature-Settings`.
enum class SignatureAlgorithm {
  kHmacSha1,    ///< "HMAC_SHA1", the default
  kHmacSha256,  ///< "HMAC_SHA256"
};

/// Form parameters as received: (name, value) pairs, names may repeat.
using Params = std::vector<std::pair<std::string, std::string>>;

namespace internal {

/// Standard base64 (with padding) of `raw`.
[[nodiscard]] std::string Base64(std::string_view raw);

/// RAII owner of an `EVP_MAC_CTX*` (copy deleted, move noexcept).
class MacCtx {
 public:
  MacCtx() noexcept = default;
  explicit MacCtx(evp_mac_ctx_st* ctx) noexcept : ctx_(ctx) {}
  ~MacCtx();
  MacCtx(const MacCtx&) = delete;
  MacCtx& operator=(const MacCtx&) = delete;
  MacCtx(MacCtx&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}
  MacCtx& operator=(MacCtx&& other) noexcept;

  [[nodiscard]] evp_mac_ctx_st* get() const noexcept { return ctx_; }
  [[nodiscard]] explicit operator bool() const noexcept { return ctx_ != nullptr; }

 private:
  evp_mac_ctx_st* ctx_ = nullptr;
};

/// The URLs a signature is checked against, as Twilio's SDKs do ("signature generation
/// on Twilio's side is inconsistent about ports"): the URL with its explicit port
/// removed, and the URL with the scheme's default port (443 for https, 80 otherwise)
/// added when it has none. One of the two is always the URL as given. Deduplicated.
[[nodiscard]] std::vector<std::string> UrlVariants(std::string_view url);

/// The first value of query parameter `name` in `url` (percent-decoded, '+' as space),
/// or nothing when the query has no such parameter.
[[nodiscard]] std::pair<bool, std::string> QueryParam(std::string_view url, std::string_view name);

}  // namespace internal

/// Lowercase hex SHA-256 of `data`, the value Twilio puts in `bodySHA256`.
[[nodiscard]] std::string Sha256Hex(std::string_view data);

/// Computes and checks `X-Twilio-Signature` values for one auth token.
///
/// One HMAC context per algorithm is keyed once in the constructor; each call duplicates
/// it (`EVP_MAC_CTX_dup`), so concurrent const calls from any number of threads are safe.
/// The token itself is kept only in a `SecureString` and in OpenSSL's key schedule,
/// both wiped on destruction; it never appears in messages.
class SignatureValidator {
 public:
  /// @throws std::invalid_argument if `auth_token` is empty.
  /// @throws std::runtime_error if OpenSSL cannot provide HMAC-SHA1 or HMAC-SHA256.
  explicit SignatureValidator(std::string_view auth_token);
  ~SignatureValidator();
  SignatureValidator(const SignatureValidator&) = delete;
  SignatureValidator& operator=(const SignatureValidator&) = delete;
  SignatureValidator(SignatureValidator&&) noexcept;
  SignatureValidator& operator=(SignatureValidator&&) noexcept;

  /// The signature Twilio sends for a request to `url` with form `params`: base64 of
  /// the HMAC over `url` followed by, for each name in byte order and each of its
  /// distinct values in byte order, name + value. The URL is used exactly as given.
  [[nodiscard]] std::string Compute(
      std::string_view url, const Params& params,
      SignatureAlgorithm algorithm = SignatureAlgorithm::kHmacSha1) const;

  /// True when `signature` matches `Compute(u, params)` for one of `internal::UrlVariants(url)`.
  /// Comparison is constant-time. An empty signature is never valid.
  [[nodiscard]] bool Validate(std::string_view url, const Params& params,
                              std::string_view signature,
                              SignatureAlgorithm algorithm = SignatureAlgorithm::kHmacSha1) const;

  /// JSON webhook check: `url` must carry `bodySHA256=<hex sha256 of body>`, the hash
  /// must match `body`, and `signature` must match the URL alone (no params), with
  /// the same port variants as `Validate`. False when the URL has no `bodySHA256`.
  [[nodiscard]] bool ValidateBody(
      std::string_view url, std::string_view body, std::string_view signature,
      SignatureAlgorithm algorithm = SignatureAlgorithm::kHmacSha1) const;

 private:
  // Raw HMAC of url + sorted params.
  [[nodiscard]] std::string Digest(std::string_view url, const Params& params,
                                   SignatureAlgorithm algorithm) const;

  SecureString token_;
  // Keyed once; only ever read (duplicated) after construction.
  internal::MacCtx keyed_sha1_;
  internal::MacCtx keyed_sha256_;
};

}  // namespace twiliocore
