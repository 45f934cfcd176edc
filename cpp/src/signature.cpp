#include "twiliocore/signature.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

#include "twiliocore/ascii.h"

namespace twiliocore {
namespace {

struct MacDeleter {
  void operator()(EVP_MAC* mac) const noexcept { EVP_MAC_free(mac); }
};
using MacPtr = std::unique_ptr<EVP_MAC, MacDeleter>;

// Constant-time equality of two byte strings. The length of a signature (28 base64
// characters for SHA-1) is public, so an early length check leaks nothing.
bool ConstantTimeEquals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

int HexValue(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/x-www-form-urlencoded decoding, as Python's parse_qs does: '+' is a space,
// %XX is a byte, a malformed escape is kept literally.
std::string FormDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

// --- SecureString -------------------------------------------------------------------

SecureString::SecureString(std::string_view value)
    : data_(std::make_unique<char[]>(value.size() + 1)), size_(value.size()) {
  std::copy(value.begin(), value.end(), data_.get());
}

SecureString::~SecureString() { Wipe(); }

SecureString::SecureString(SecureString&& other) noexcept
    : data_(std::move(other.data_)), size_(std::exchange(other.size_, 0)) {}

SecureString& SecureString::operator=(SecureString&& other) noexcept {
  if (this != &other) {
    Wipe();
    data_ = std::move(other.data_);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

void SecureString::Wipe() noexcept {
  if (data_) OPENSSL_cleanse(data_.get(), size_);
  data_.reset();
  size_ = 0;
}

// --- internal -----------------------------------------------------------------------

namespace internal {

std::string Base64(std::string_view raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(raw.data()),
                                static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));  // shrinks in place: no copy is left behind
  return out;
}

MacCtx::~MacCtx() { EVP_MAC_CTX_free(ctx_); }

MacCtx& MacCtx::operator=(MacCtx&& other) noexcept {
  if (this != &other) {
    EVP_MAC_CTX_free(ctx_);
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

std::vector<std::string> UrlVariants(std::string_view url) {
  // Split "scheme://authority/rest" without normalising anything: the signed string is
  // the URL byte for byte, only the port is added or removed.
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {std::string(url)};
  const std::string_view scheme = url.substr(0, scheme_end);
  const std::size_t authority_begin = scheme_end + 3;
  const std::size_t authority_end = std::min(url.find_first_of("/?#", authority_begin), url.size());
  const std::string_view authority = url.substr(authority_begin, authority_end - authority_begin);
  // The host starts after any userinfo; an IPv6 literal is bracketed.
  const std::size_t at = authority.rfind('@');
  const std::size_t host_begin = at == std::string_view::npos ? 0 : at + 1;
  std::size_t colon = std::string_view::npos;
  if (host_begin < authority.size() && authority[host_begin] == '[') {
    const std::size_t close = authority.find(']', host_begin);
    if (close != std::string_view::npos && close + 1 < authority.size() &&
        authority[close + 1] == ':') {
      colon = close + 1;
    }
  } else {
    const std::size_t c = authority.find(':', host_begin);
    if (c != std::string_view::npos) colon = c;
  }
  const std::string_view head = url.substr(0, authority_begin + (colon == std::string_view::npos
                                                                     ? authority.size()
                                                                     : colon));
  const std::string_view tail = url.substr(authority_end);

  std::vector<std::string> variants;
  if (colon == std::string_view::npos) {
    variants.emplace_back(url);  // as given == without port
    std::string with_port(head);
    with_port += ascii::EqualsIgnoreCase(scheme, "https") ? ":443" : ":80";
    with_port += tail;
    variants.push_back(std::move(with_port));
  } else {
    variants.emplace_back(url);  // as given == with port
    std::string without_port(head);
    without_port += tail;
    if (without_port != url) variants.push_back(std::move(without_port));
  }
  return variants;
}

std::pair<bool, std::string> QueryParam(std::string_view url, std::string_view name) {
  const std::size_t q = url.find('?');
  if (q == std::string_view::npos) return {false, {}};
  std::string_view query = url.substr(q + 1);
  query = query.substr(0, std::min(query.find('#'), query.size()));
  while (!query.empty()) {
    const std::size_t amp = std::min(query.find('&'), query.size());
    const std::string_view field = query.substr(0, amp);
    query.remove_prefix(std::min(amp + 1, query.size()));
    const std::size_t eq = field.find('=');
    if (eq == std::string_view::npos) continue;  // parse_qs drops fields without '='
    if (FormDecode(field.substr(0, eq)) == name) return {true, FormDecode(field.substr(eq + 1))};
  }
  return {false, {}};
}

}  // namespace internal

std::string Sha256Hex(std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &length, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 digest failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0F];
  }
  return out;
}

// --- SignatureValidator ---------------------------------------------------------------

namespace {

// Returns a MAC context keyed with `key` for HMAC over `digest` ("SHA1", "SHA256").
internal::MacCtx KeyedHmac(EVP_MAC* mac, std::string_view key, const char* digest) {
  internal::MacCtx ctx(EVP_MAC_CTX_new(mac));
  if (!ctx) throw std::runtime_error("OpenSSL: cannot allocate a MAC context");
  std::string digest_name(digest);
  const std::array<OSSL_PARAM, 2> params = {
      OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name.data(), 0),
      OSSL_PARAM_construct_end()};
  if (EVP_MAC_init(ctx.get(), reinterpret_cast<const unsigned char*>(key.data()), key.size(),
                   params.data()) != 1) {
    throw std::runtime_error(std::string("OpenSSL: cannot key HMAC-") + digest);
  }
  return ctx;
}

}  // namespace

SignatureValidator::SignatureValidator(std::string_view auth_token) : token_(auth_token) {
  if (token_.empty()) throw std::invalid_argument("auth_token: must not be empty");
  const MacPtr mac(EVP_MAC_fetch(nullptr, OSSL_MAC_NAME_HMAC, nullptr));
  if (!mac) throw std::runtime_error("OpenSSL: HMAC is unavailable");
  keyed_sha1_ = KeyedHmac(mac.get(), token_.view(), "SHA1");
  keyed_sha256_ = KeyedHmac(mac.get(), token_.view(), "SHA256");
}

SignatureValidator::~SignatureValidator() = default;
SignatureValidator::SignatureValidator(SignatureValidator&&) noexcept = default;
SignatureValidator& SignatureValidator::operator=(SignatureValidator&&) noexcept = default;

std::string SignatureValidator::Digest(std::string_view url, const Params& params,
                                       SignatureAlgorithm algorithm) const {
  const internal::MacCtx& keyed =
      algorithm == SignatureAlgorithm::kHmacSha256 ? keyed_sha256_ : keyed_sha1_;
  if (!keyed) throw std::logic_error("SignatureValidator used after move");
  // Sort (name, value) pairs by name then value in byte order and drop exact
  // duplicates: the same order as "names sorted, each name's distinct values sorted".
  std::vector<const std::pair<std::string, std::string>*> sorted;
  sorted.reserve(params.size());
  for (const auto& p : params) sorted.push_back(&p);
  std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return *a < *b; });
  sorted.erase(std::unique(sorted.begin(), sorted.end(),
                           [](const auto* a, const auto* b) { return *a == *b; }),
               sorted.end());

  // The keyed context is never written; each call works on its own duplicate.
  const internal::MacCtx ctx(EVP_MAC_CTX_dup(keyed.get()));
  if (!ctx) throw std::runtime_error("OpenSSL: cannot duplicate the MAC context");
  const auto update = [&ctx](std::string_view s) {
    if (EVP_MAC_update(ctx.get(), reinterpret_cast<const unsigned char*>(s.data()), s.size()) != 1) {
      throw std::runtime_error("OpenSSL: HMAC update failed");
    }
  };
  update(url);
  for (const auto* p : sorted) {
    update(p->first);
    update(p->second);
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  std::size_t length = 0;
  if (EVP_MAC_final(ctx.get(), out.data(), &length, out.size()) != 1 || length == 0) {
    throw std::runtime_error("OpenSSL: HMAC final failed");
  }
  return {reinterpret_cast<const char*>(out.data()), length};
}

std::string SignatureValidator::Compute(std::string_view url, const Params& params,
                                        SignatureAlgorithm algorithm) const {
  return internal::Base64(Digest(url, params, algorithm));
}

bool SignatureValidator::Validate(std::string_view url, const Params& params,
                                  std::string_view signature, SignatureAlgorithm algorithm) const {
  if (signature.empty()) return false;
  bool valid = false;
  for (const std::string& candidate : internal::UrlVariants(url)) {
    valid |= ConstantTimeEquals(Compute(candidate, params, algorithm), signature);
  }
  return valid;
}

bool SignatureValidator::ValidateBody(std::string_view url, std::string_view body,
                                      std::string_view signature,
                                      SignatureAlgorithm algorithm) const {
  const auto [found, expected_hash] = internal::QueryParam(url, "bodySHA256");
  if (!found) return false;
  const bool hash_ok = ConstantTimeEquals(Sha256Hex(body), expected_hash);
  const bool signature_ok = Validate(url, Params{}, signature, algorithm);
  return hash_ok && signature_ok;
}

}  // namespace twiliocore
