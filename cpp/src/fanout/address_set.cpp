#include "fanout/address_set.h"

#include <utility>

#include "twiliocore/ascii.h"

namespace twiliocore::internal {

namespace {

constexpr std::uint64_t kWhatsAppTag = std::uint64_t{1} << 62;
constexpr std::uint64_t kHashedTag = std::uint64_t{1} << 63;

}  // namespace

std::uint64_t AddressSet::Key(std::string_view address) noexcept {
  std::uint64_t tag = 0;
  if (ascii::StartsWithIgnoreCase(address, "whatsapp:")) {
    tag = kWhatsAppTag;
    address.remove_prefix(9);
  }
  if (address.size() >= 2 && address.size() <= 16 && address[0] == '+' &&
      ascii::AllDigits(address.substr(1)) && address[1] != '0') {
    std::uint64_t value = 0;
    for (char c : address.substr(1)) value = value * 10 + static_cast<std::uint64_t>(c - '0');
    return value | tag;  // at most 15 digits < 2^50: exact
  }
  // Not an E.164 number (cannot happen after normalisation): FNV-1a, tagged apart.
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : address) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  return (h >> 2) | kHashedTag | tag;
}

bool AddressSet::Insert(std::string_view address) {
  std::uint64_t key = Key(address);
  if (key == 0) key = 1;
  // Linear probing up to three quarters full (a few probes within a cache line or two): the
  // table, and the old and new table side by side while it doubles, stay half the size they
  // would be at half full.
  if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
  const std::size_t mask = slots_.size() - 1;
  std::size_t i = static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> 20) & mask;
  while (slots_[i] != 0) {
    if (slots_[i] == key) return false;
    i = (i + 1) & mask;
  }
  slots_[i] = key;
  ++size_;
  return true;
}

void AddressSet::Grow() {
  std::vector<std::uint64_t> old = std::move(slots_);
  slots_.assign(old.empty() ? 1024 : old.size() * 2, 0);
  const std::size_t mask = slots_.size() - 1;
  for (std::uint64_t key : old) {
    if (key == 0) continue;
    std::size_t i = static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ULL) >> 20) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = key;
  }
}

}  // namespace twiliocore::internal
