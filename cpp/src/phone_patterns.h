#pragma once

/// @file
/// A region's validity check on compiled digit patterns (internal to the phone code).
///
/// libphonenumber decides validity with ICU regular expressions, built and looked up (by
/// hashing the pattern text) on every call: 13-20 µs per number, most of a bulk send's work
/// per recipient. Its national number patterns use a small subset of regular expressions over
/// ASCII digits, compiled here once into a tree and matched on sets of positions (a bit per
/// position): exact for the subset, which has no backreferences or lookaround, and a few
/// hundred instructions per number. A pattern outside the subset is refused, and the region
/// keeps libphonenumber's check.
///
/// Nothing here depends on libphonenumber: the patterns come as text (`RegionSource`), read
/// from its metadata at build time (the US table of the `+1` fast path) or at run time (tests).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace twiliocore::internal {

/// One PhoneNumberDesc of libphonenumber's metadata: the parts a validity check reads.
struct DescSource {
  std::string pattern;       ///< national_number_pattern; empty: matches nothing
  std::vector<int> lengths;  ///< possible_length; empty: any length

  friend bool operator==(const DescSource& a, const DescSource& b) = default;
};

/// What PhoneNumberUtil::GetNumberTypeHelper(national, metadata) != UNKNOWN reads for one
/// region: the general description, then each type's (mobile left out when it is the same
/// pattern as fixed line).
struct RegionSource {
  DescSource general;
  std::vector<DescSource> types;

  friend bool operator==(const RegionSource& a, const RegionSource& b) = default;
};

struct PositionAutomaton;

/// A libphonenumber-style national number pattern, compiled.
class DigitPattern {
 public:
  /// nullopt when `pattern` uses anything but digits, \d, [...] of digits and ranges,
  /// (...) / (?:...) groups, | and the quantifiers ? * + {n} {n,} {n,m}.
  static std::optional<DigitPattern> Compile(std::string_view pattern);

  using Positions = std::uint32_t;  // sets of positions in a number of at most 30 digits
  static constexpr std::size_t kMaxDigits = 30;

  /// A number read once for matching against any number of patterns.
  struct Input {
    std::array<std::uint8_t, kMaxDigits> digit{};  // 0-9 each
    std::size_t length = 0;
  };

  /// `digits` as an Input; nullopt when it holds anything but ASCII digits or is too long.
  static std::optional<Input> Read(std::string_view digits) noexcept;

  /// True when the whole of `digits` (ASCII digits only) matches.
  [[nodiscard]] bool FullMatch(std::string_view digits) const;
  [[nodiscard]] bool FullMatch(const Input& input) const;

  /// The position-set matcher alone (what FullMatch uses when no automaton was built):
  /// tests compare the two.
  [[nodiscard]] bool MatchByPositions(const Input& input) const;

  /// Whether the pattern was also compiled into a deterministic automaton (tests).
  [[nodiscard]] bool HasAutomaton() const noexcept { return !automaton_.next.empty(); }

 private:
  struct Node {
    enum class Kind { kClass, kSequence, kAlternation } kind = Kind::kClass;
    std::uint16_t digits = 0;  // kClass: bit d set when digit d matches
    std::vector<int> children;
    int min = 1;
    int max = 1;  // -1: unbounded
    // With the quantifier: the digits a match can start with, and whether it can be empty.
    std::uint16_t first = 0;
    bool nullable = false;
  };
  struct Parser;
  friend struct PositionAutomaton;  // reads the nodes (phone_patterns.cpp)
  using Masks = std::array<Positions, 10>;  // Masks[d]: the positions holding digit d

  Positions Match(int index, Positions starts, const Masks& masks, std::size_t length) const;
  Positions Once(const Node& node, Positions starts, const Masks& masks,
                 std::size_t length) const;

  // The pattern as a deterministic automaton over digits: from state 0, digit by digit;
  // -1 when no match is possible any more. Built by Compile from the pattern's position
  // automaton (Glushkov), unless it would pass kMaxStates states; the position-set matcher
  // (Match) is then used.
  struct Automaton {
    std::vector<std::array<std::int32_t, 10>> next;
    std::vector<std::uint8_t> accepting;
  };
  static constexpr std::size_t kMaxStates = 4096;
  void BuildAutomaton();

  std::vector<Node> nodes_;
  int root_ = -1;
  Automaton automaton_;
};

/// PhoneNumberUtil::IsValidNumberForRegion on compiled patterns, for one region.
class RegionValidity {
 public:
  /// nullopt when one of the region's patterns falls outside the compiled subset.
  static std::optional<RegionValidity> Build(const RegionSource& source);

  /// Whether the national significant number `national` (ASCII digits) is valid.
  [[nodiscard]] bool IsValid(std::string_view national) const;

 private:
  // PhoneNumberUtil::IsNumberMatchingDesc on a compiled pattern.
  struct CompiledDesc {
    std::vector<int> lengths;             // possible lengths; empty: not checked
    std::optional<DigitPattern> pattern;  // nullopt: no pattern, never matches

    [[nodiscard]] bool Matches(const DigitPattern::Input& national) const;
  };

  static std::optional<CompiledDesc> Compile(const DescSource& desc);

  CompiledDesc general_;
  std::vector<CompiledDesc> types_;
};

}  // namespace twiliocore::internal
