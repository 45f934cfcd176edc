#pragma once

/// @file
/// The set a bulk job drops duplicate recipients with: one 8-byte key per normalised address,
/// so that a million recipients cost 16 MiB instead of a million strings.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace twiliocore::internal {

/// A set of normalised addresses (`+E164`, `whatsapp:+E164`) stored as 64-bit keys, 8 bytes
/// per slot: an E.164 number has at most 15 digits, so its value is its key (exact, no hashing
/// collisions); the channel goes in the top bits. 1,000,000 numbers take 16 MiB.
/// Not thread-safe (owned by one coordinator).
class AddressSet {
 public:
  /// Adds `address`; false when it was already present.
  bool Insert(std::string_view address);
  /// Addresses held.
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  /// Bytes held by the table.
  [[nodiscard]] std::size_t memory_bytes() const noexcept { return slots_.size() * sizeof(std::uint64_t); }
  /// The key of an address (exposed for tests).
  [[nodiscard]] static std::uint64_t Key(std::string_view address) noexcept;

 private:
  void Grow();
  std::vector<std::uint64_t> slots_;  // 0 = empty
  std::size_t size_ = 0;
};

}  // namespace twiliocore::internal
