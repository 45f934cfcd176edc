#include "twiliocore/phone.h"

#include <google/protobuf/io/coded_stream.h>
#include <phonenumbers/phonemetadata.pb.h>
#include <phonenumbers/phonenumber.pb.h>
#include <phonenumbers/phonenumberutil.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "twiliocore/error.h"
#include "twiliocore/segments.h"

#ifndef TWILIOCORE_LIBPHONENUMBER_VERSION
#define TWILIOCORE_LIBPHONENUMBER_VERSION "unknown"
#endif

#if TWILIOCORE_HAVE_PHONE_METADATA
namespace i18n::phonenumbers {
// libphonenumber's compiled-in metadata, the bytes PhoneNumberUtil itself parses
// (src/phonenumbers/metadata.h): exported by the library, not installed as a header. CMake
// checks that they link; without them the validity check below stays libphonenumber's.
int metadata_size();
const void* metadata_get();
}  // namespace i18n::phonenumbers
#endif

namespace twiliocore {
namespace {

using i18n::phonenumbers::PhoneMetadata;
using i18n::phonenumbers::PhoneNumber;
using i18n::phonenumbers::PhoneNumberDesc;
using i18n::phonenumbers::PhoneNumberUtil;

constexpr std::string_view kWhatsAppPrefix = "whatsapp:";

// libphonenumber's singleton: built once (thread-safe), immutable afterwards, so
// concurrent const calls are safe.
const PhoneNumberUtil& Util() { return *PhoneNumberUtil::GetInstance(); }

std::optional<bool> IsRegionInMetadata(const std::string& upper);

// Uppercases and checks the default region once per call (not per number of a batch).
std::string CheckedRegion(std::string_view region) {
  std::string upper(region);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper.empty()) return "ZZ";
  if (upper == "ZZ") return upper;
  // The same answer as GetCountryCodeForRegion != 0, without libphonenumber's instance when
  // the metadata is reachable directly (tested for every two-letter code).
  const std::optional<bool> known = IsRegionInMetadata(upper);
  if (known ? !*known : Util().GetCountryCodeForRegion(upper) == 0) {
    throw std::invalid_argument("region: '" + std::string(region) +
                                "' is not an ISO 3166 region code libphonenumber knows");
  }
  return upper;
}

std::string_view ParseErrorReason(PhoneNumberUtil::ErrorType error) noexcept {
  switch (error) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE_ERROR:
      return kReasonInvalidCountryCode;
    case PhoneNumberUtil::TOO_SHORT_AFTER_IDD:
    case PhoneNumberUtil::TOO_SHORT_NSN:
      return kReasonTooShort;
    case PhoneNumberUtil::TOO_LONG_NSN:
      return kReasonTooLong;
    case PhoneNumberUtil::NOT_A_NUMBER:
    case PhoneNumberUtil::NO_PARSING_ERROR:
      break;
  }
  return kReasonNotANumber;
}

// Why a parsed number is not acceptable, from its length check. A number possible only
// for local dialling (no area code) cannot be written in E.164: "too short".
std::string_view ValidationReason(PhoneNumberUtil::ValidationResult result) noexcept {
  switch (result) {
    case PhoneNumberUtil::INVALID_COUNTRY_CODE:
      return kReasonInvalidCountryCode;
    case PhoneNumberUtil::TOO_SHORT:
    case PhoneNumberUtil::IS_POSSIBLE_LOCAL_ONLY:
      return kReasonTooShort;
    case PhoneNumberUtil::TOO_LONG:
      return kReasonTooLong;
    case PhoneNumberUtil::IS_POSSIBLE:
    case PhoneNumberUtil::INVALID_LENGTH:
      break;
  }
  return kReasonNotValidForRegion;
}

// The PhoneNumber that PhoneNumberUtil::Parse builds for a North American number already
// written in E.164: "+1" and ten ASCII digits, the first of them 2-9. For such an input,
// whatever the default region, Parse reads calling code 1 after the '+', takes the metadata
// of its main region (US) for the national number, whose national prefix "1" cannot match a
// number starting with 2-9 (nothing stripped), and a national number not starting with 0
// carries no Italian leading zero: the result is {country_code 1, national_number the ten
// digits}. Built directly, it skips Parse's generic extraction (ICU regular expressions).
// Anything else returns false and goes through Parse; phone_test.cpp checks that both paths
// agree (parsed number, e164 or reason) over every region's example numbers in every
// notation, random digit strings and edge cases.
bool ParseNanpE164(std::string_view input, PhoneNumber& parsed) noexcept {
  constexpr std::size_t kLength = 12;  // "+1" and ten digits
  if (input.size() != kLength || input[0] != '+' || input[1] != '1') return false;
  if (input[2] < '2' || input[2] > '9') return false;
  std::uint64_t national = 0;
  for (std::size_t i = 2; i < kLength; ++i) {
    const char c = input[i];
    if (c < '0' || c > '9') return false;
    national = national * 10 + static_cast<std::uint64_t>(c - '0');
  }
  parsed.set_country_code(1);
  parsed.set_national_number(national);
  return true;
}

// --- A region's validity check on compiled digit patterns --------------------------------
//
// libphonenumber decides validity with ICU regular expressions, built and looked up (by
// hashing the pattern text) on every call: 13-20 µs per number, most of a bulk send's work
// per recipient. Its national number patterns use a small subset of regular expressions over
// ASCII digits, compiled here once into a tree and matched on sets of positions (a bit per
// position): exact for the subset, which has no backreferences or lookaround, and a few
// hundred instructions per number. A pattern outside the subset is refused, and the region
// keeps libphonenumber's check.

// Sets of positions in a number of at most kMaxDigits digits.
using Positions = std::uint32_t;
constexpr std::size_t kMaxDigits = 30;

class DigitPattern {
 public:
  // nullopt when `pattern` uses anything but digits, \d, [...] of digits and ranges,
  // (...) / (?:...) groups, | and the quantifiers ? * + {n} {n,} {n,m}.
  static std::optional<DigitPattern> Compile(std::string_view pattern) {
    DigitPattern compiled;
    Parser parser{pattern, 0, compiled.nodes_};
    const int root = parser.Alternation();
    if (root < 0 || parser.pos != pattern.size()) return std::nullopt;
    compiled.root_ = root;
    return compiled;
  }

  // True when the whole of `digits` (ASCII digits only) matches.
  [[nodiscard]] bool FullMatch(std::string_view digits) const {
    if (digits.size() > kMaxDigits) return false;
    Masks masks{};
    for (std::size_t i = 0; i < digits.size(); ++i) {
      const int d = digits[i] - '0';
      if (d < 0 || d > 9) return false;
      masks[static_cast<std::size_t>(d)] |= Positions{1} << i;
    }
    const Positions ends = Match(root_, 1, masks, digits.size());
    return (ends >> digits.size() & 1U) != 0;
  }

 private:
  using Masks = std::array<Positions, 10>;  // positions holding each digit
  struct Node {
    enum class Kind { kClass, kSequence, kAlternation } kind = Kind::kClass;
    std::uint16_t digits = 0;  // kClass: bit d set when digit d matches
    std::vector<int> children;
    int min = 1;
    int max = 1;  // -1: unbounded
  };

  struct Parser {
    std::string_view text;
    std::size_t pos;
    std::vector<Node>& nodes;

    bool At(char c) const { return pos < text.size() && text[pos] == c; }
    int Add(Node node) {
      nodes.push_back(std::move(node));
      return static_cast<int>(nodes.size() - 1);
    }
    int Alternation() {
      Node alt;
      alt.kind = Node::Kind::kAlternation;
      for (;;) {
        const int branch = Sequence();
        if (branch < 0) return -1;
        alt.children.push_back(branch);
        if (!At('|')) break;
        ++pos;
      }
      return alt.children.size() == 1 ? alt.children[0] : Add(std::move(alt));
    }
    int Sequence() {
      Node seq;
      seq.kind = Node::Kind::kSequence;
      while (pos < text.size() && !At('|') && !At(')')) {
        const int atom = Atom();
        if (atom < 0 || !Quantifier(nodes[static_cast<std::size_t>(atom)])) return -1;
        seq.children.push_back(atom);
      }
      return Add(std::move(seq));
    }
    int Atom() {
      Node node;
      const char c = text[pos];
      if (c >= '0' && c <= '9') {
        node.digits = static_cast<std::uint16_t>(1U << (c - '0'));
        ++pos;
      } else if (c == '\\') {
        if (!At2('d')) return -1;
        node.digits = 0x3FF;
        pos += 2;
      } else if (c == '[') {
        ++pos;
        while (pos < text.size() && !At(']')) {
          if (At('\\')) {
            if (!At2('d')) return -1;
            node.digits = 0x3FF;
            pos += 2;
            continue;
          }
          const char lo = text[pos];
          if (lo < '0' || lo > '9') return -1;
          char hi = lo;
          if (pos + 2 < text.size() && text[pos + 1] == '-' && text[pos + 2] != ']') {
            hi = text[pos + 2];
            if (hi < lo || hi > '9') return -1;
            pos += 2;
          }
          for (char d = lo; d <= hi; ++d) node.digits |= static_cast<std::uint16_t>(1U << (d - '0'));
          ++pos;
        }
        if (!At(']') || node.digits == 0) return -1;
        ++pos;
      } else if (c == '(') {
        ++pos;
        if (At('?')) {
          if (!At2(':')) return -1;
          pos += 2;
        }
        const int inner = Alternation();
        if (inner < 0 || !At(')')) return -1;
        ++pos;
        // A group is its content; wrapped so a quantifier on the group applies to all of it.
        Node group;
        group.kind = Node::Kind::kSequence;
        group.children.push_back(inner);
        return Add(std::move(group));
      } else {
        return -1;
      }
      return Add(std::move(node));
    }
    bool At2(char c) const { return pos + 1 < text.size() && text[pos + 1] == c; }
    bool Number(int& out) {
      const std::size_t start = pos;
      out = 0;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && out < 1000) {
        out = out * 10 + (text[pos++] - '0');
      }
      return pos > start && out < 1000;
    }
    bool Quantifier(Node& node) {
      if (At('?')) {
        node.min = 0, node.max = 1, ++pos;
      } else if (At('*')) {
        node.min = 0, node.max = -1, ++pos;
      } else if (At('+')) {
        node.min = 1, node.max = -1, ++pos;
      } else if (At('{')) {
        ++pos;
        if (!Number(node.min)) return false;
        node.max = node.min;
        if (At(',')) {
          ++pos;
          node.max = At('}') ? -1 : 0;
          if (node.max == 0 && !Number(node.max)) return false;
          if (node.max >= 0 && node.max < node.min) return false;
        }
        if (!At('}')) return false;
        ++pos;
      } else {
        return true;
      }
      return !(At('?') || At('+') || At('*') || At('{'));  // no lazy/possessive/stacked forms
    }
  };

  // Positions where a match of node `index` (with its quantifier) can end, from `starts`.
  Positions Match(int index, Positions starts, const Masks& masks, std::size_t length) const {
    const Node& node = nodes_[static_cast<std::size_t>(index)];
    Positions current = starts;
    int count = 0;
    for (; count < node.min && current != 0; ++count) current = Once(node, current, masks, length);
    if (count < node.min) return 0;
    Positions ends = current;
    for (; node.max < 0 || count < node.max; ++count) {
      current = Once(node, current, masks, length) & ~ends;  // only positions not seen yet
      if (current == 0) break;
      ends |= current;
    }
    return ends;
  }

  Positions Once(const Node& node, Positions starts, const Masks& masks, std::size_t length) const {
    switch (node.kind) {
      case Node::Kind::kClass: {
        Positions at = 0;
        for (int d = 0; d < 10; ++d) {
          if ((node.digits >> d & 1U) != 0) at |= masks[static_cast<std::size_t>(d)];
        }
        return (starts & at) << 1 & ((Positions{1} << length << 1) - 1);
      }
      case Node::Kind::kSequence:
        for (const int child : node.children) {
          starts = Match(child, starts, masks, length);
          if (starts == 0) break;
        }
        return starts;
      case Node::Kind::kAlternation: {
        Positions ends = 0;
        for (const int child : node.children) ends |= Match(child, starts, masks, length);
        return ends;
      }
    }
    return 0;
  }

  std::vector<Node> nodes_;
  int root_ = -1;
};

// PhoneNumberUtil::IsNumberMatchingDesc on a compiled pattern.
struct CompiledDesc {
  std::vector<int> lengths;            // possible lengths; empty: not checked
  std::optional<DigitPattern> pattern;  // nullopt: no pattern, never matches

  [[nodiscard]] bool Matches(std::string_view national) const {
    if (!lengths.empty() &&
        std::find(lengths.begin(), lengths.end(), static_cast<int>(national.size())) ==
            lengths.end()) {
      return false;
    }
    return pattern && pattern->FullMatch(national);
  }
};

// PhoneNumberUtil::GetNumberTypeHelper(national, metadata) != UNKNOWN, for one region.
class RegionValidity {
 public:
  static std::optional<RegionValidity> Build(const PhoneMetadata& metadata) {
    RegionValidity v;
    if (!Compile(metadata.general_desc(), v.general_)) return std::nullopt;
    std::vector<const PhoneNumberDesc*> types = {
        &metadata.premium_rate(), &metadata.toll_free(),       &metadata.shared_cost(),
        &metadata.voip(),         &metadata.personal_number(), &metadata.pager(),
        &metadata.uan(),          &metadata.voicemail(),       &metadata.fixed_line()};
    if (!metadata.same_mobile_and_fixed_line_pattern()) types.push_back(&metadata.mobile());
    for (const PhoneNumberDesc* desc : types) {
      CompiledDesc compiled;
      if (!Compile(*desc, compiled)) return std::nullopt;
      v.types_.push_back(std::move(compiled));
    }
    return v;
  }

  [[nodiscard]] bool IsValid(std::string_view national) const {
    if (!general_.Matches(national)) return false;
    return std::any_of(types_.begin(), types_.end(),
                       [national](const CompiledDesc& desc) { return desc.Matches(national); });
  }

 private:
  static bool Compile(const PhoneNumberDesc& desc, CompiledDesc& out) {
    out.lengths.assign(desc.possible_length().begin(), desc.possible_length().end());
    if (desc.national_number_pattern().empty()) return true;  // never matches
    out.pattern = DigitPattern::Compile(desc.national_number_pattern());
    return out.pattern.has_value();
  }

  CompiledDesc general_;
  std::vector<CompiledDesc> types_;
};

// Calls `visit` with each region's metadata in turn, parsed from the bytes libphonenumber
// itself parses, one region at a time (the whole collection, megabytes once parsed, is never
// held), until `visit` returns true. False when the metadata is not reachable or malformed.
template <typename Visit>
bool ForEachRegionMetadata(Visit&& visit) {
#if TWILIOCORE_HAVE_PHONE_METADATA
  // message PhoneMetadataCollection { repeated PhoneMetadata metadata = 1; }
  constexpr std::uint32_t kMetadataTag = (1U << 3) | 2U;  // field 1, length-delimited
  google::protobuf::io::CodedInputStream in(
      static_cast<const std::uint8_t*>(i18n::phonenumbers::metadata_get()),
      i18n::phonenumbers::metadata_size());
  PhoneMetadata metadata;
  std::string bytes;
  for (;;) {
    const std::uint32_t tag = in.ReadTag();
    if (tag == 0) return in.ConsumedEntireMessage();
    std::uint32_t length = 0;
    if (tag != kMetadataTag || !in.ReadVarint32(&length) ||
        !in.ReadString(&bytes, static_cast<int>(length)) || !metadata.ParseFromString(bytes)) {
      return false;
    }
    if (visit(metadata)) return true;
  }
#else
  (void)visit;
  return false;
#endif
}

// The compiled check of `region`, built on first use and kept; nullptr when the region's
// patterns fall outside the subset or the metadata is not reachable.
const RegionValidity* CompiledRegion(const std::string& region) {
  static std::mutex mu;
  static std::map<std::string, std::optional<RegionValidity>> built;
  std::lock_guard lock(mu);
  auto it = built.find(region);
  if (it == built.end()) {
    std::optional<RegionValidity> validity;
    ForEachRegionMetadata([&](const PhoneMetadata& metadata) {
      if (metadata.id() != region) return false;
      validity = RegionValidity::Build(metadata);
      return true;
    });
    it = built.emplace(region, std::move(validity)).first;
  }
  return it->second ? &*it->second : nullptr;  // map nodes are stable
}

// Whether `upper` is a region of the metadata (PhoneNumberUtil::IsValidRegionCode: every
// geographic entry; "001" holds the non-geographic ones), or nullopt when the metadata is not
// reachable.
std::optional<bool> IsRegionInMetadata(const std::string& upper) {
  static const std::optional<std::set<std::string>> regions =
      []() -> std::optional<std::set<std::string>> {
    std::set<std::string> ids;
    const bool read = ForEachRegionMetadata([&ids](const PhoneMetadata& metadata) {
      if (metadata.id() != "001") ids.insert(metadata.id());
      return false;  // every region
    });
    if (!read || ids.empty()) return std::nullopt;
    return ids;
  }();
  if (!regions) return std::nullopt;
  return regions->count(upper) != 0;
}

// The US check the NANP fast path uses, or nullptr (libphonenumber's check is used).
const RegionValidity* UsValidity() {
  static const RegionValidity* us = CompiledRegion("US");
  return us;
}

// Parses and checks one number; on success fills `parsed` and returns an empty reason.
// `fast` allows ParseNanpE164 in place of Parse (tests compare both ways).
std::string_view Evaluate(std::string_view input, const std::string& region, PhonePolicy policy,
                          PhoneNumber& parsed, bool fast = true, bool* nanp_out = nullptr) {
  // libphonenumber assumes valid UTF-8; check first rather than hand it garbage.
  if (!internal::IsValidUtf8(input)) return kReasonNotANumber;
  const bool nanp = fast && ParseNanpE164(input, parsed);
  if (nanp_out != nullptr) *nanp_out = nanp;
  // libphonenumber's instance (its whole metadata parsed, 3 MB) is only touched when needed:
  // a +1 number valid for the US never needs it.
  if (!nanp) {
    const auto error = Util().Parse(std::string(input), region, &parsed);
    if (error != PhoneNumberUtil::NO_PARSING_ERROR) return ParseErrorReason(error);
  }
  if (policy == PhonePolicy::kStrict) {
    // IsValidNumber first finds the number's region: for calling code 1 it tries the US
    // first (the code's main region, without a leading-digits pattern) by the same type
    // check IsValidNumberForRegion(US) makes, then checks the number for that region. A
    // number valid for the US is therefore valid, found with one check instead of two;
    // any other +1 number (Canada, the Caribbean, invalid ones) takes the full test.
    static const std::string kUs = "US";
    if (nanp) {
      const RegionValidity* us = UsValidity();
      if (us != nullptr ? us->IsValid(input.substr(2))
                        : Util().IsValidNumberForRegion(parsed, kUs)) {
        return {};
      }
    }
    if (Util().IsValidNumber(parsed)) return {};
  }
  // The length check only runs when needed: it names the reason for a rejected number
  // (strict) or is the test itself (lenient).
  const auto possible = Util().IsPossibleNumberWithReason(parsed);
  if (policy == PhonePolicy::kLenient && possible == PhoneNumberUtil::IS_POSSIBLE) return {};
  return ValidationReason(possible);
}

PhoneResult Convert(std::string_view input, const std::string& region, PhonePolicy policy,
                    bool fast = true) {
  PhoneResult result;
  result.input = std::string(input);
  PhoneNumber parsed;
  bool nanp = false;
  const std::string_view reason = Evaluate(input, region, policy, parsed, fast, &nanp);
  if (!reason.empty()) {
    result.reason = std::string(reason);
  } else if (nanp) {
    result.e164 = std::string(input);  // "+1" and ten digits: already its E.164 form
  } else {
    Util().Format(parsed, PhoneNumberUtil::E164, &result.e164);
  }
  return result;
}

bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() &&
         std::equal(prefix.begin(), prefix.end(), s.begin(), [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) ==
                  std::tolower(static_cast<unsigned char>(b));
         });
}

[[noreturn]] void ThrowRejected(PhoneResult&& result) {
  throw InvalidPhoneNumber(std::move(result.input), std::move(result.reason));
}

NumberType ToNumberType(PhoneNumberUtil::PhoneNumberType type) noexcept {
  switch (type) {
    case PhoneNumberUtil::FIXED_LINE: return NumberType::kFixedLine;
    case PhoneNumberUtil::MOBILE: return NumberType::kMobile;
    case PhoneNumberUtil::FIXED_LINE_OR_MOBILE: return NumberType::kFixedLineOrMobile;
    case PhoneNumberUtil::TOLL_FREE: return NumberType::kTollFree;
    case PhoneNumberUtil::PREMIUM_RATE: return NumberType::kPremiumRate;
    case PhoneNumberUtil::SHARED_COST: return NumberType::kSharedCost;
    case PhoneNumberUtil::VOIP: return NumberType::kVoip;
    case PhoneNumberUtil::PERSONAL_NUMBER: return NumberType::kPersonalNumber;
    case PhoneNumberUtil::PAGER: return NumberType::kPager;
    case PhoneNumberUtil::UAN: return NumberType::kUan;
    case PhoneNumberUtil::VOICEMAIL: return NumberType::kVoicemail;
    case PhoneNumberUtil::UNKNOWN: break;
  }
  return NumberType::kUnknown;
}

}  // namespace

const char* NumberTypeName(NumberType type) noexcept {
  switch (type) {
    case NumberType::kFixedLine: return "fixed_line";
    case NumberType::kMobile: return "mobile";
    case NumberType::kFixedLineOrMobile: return "fixed_line_or_mobile";
    case NumberType::kTollFree: return "toll_free";
    case NumberType::kPremiumRate: return "premium_rate";
    case NumberType::kSharedCost: return "shared_cost";
    case NumberType::kVoip: return "voip";
    case NumberType::kPersonalNumber: return "personal_number";
    case NumberType::kPager: return "pager";
    case NumberType::kUan: return "uan";
    case NumberType::kVoicemail: return "voicemail";
    case NumberType::kUnknown: break;
  }
  return "unknown";
}

PhoneResult TryToE164(std::string_view number, std::string_view region, PhonePolicy policy) {
  return Convert(number, CheckedRegion(region), policy);
}

std::string ToE164(std::string_view number, std::string_view region, PhonePolicy policy) {
  PhoneResult result = TryToE164(number, region, policy);
  if (!result.ok()) ThrowRejected(std::move(result));
  return std::move(result.e164);
}

std::vector<PhoneResult> ToE164Many(const std::vector<std::string>& numbers,
                                    std::string_view region, PhonePolicy policy) {
  const std::string checked = CheckedRegion(region);
  std::vector<PhoneResult> results;
  results.reserve(numbers.size());
  for (const std::string& number : numbers) results.push_back(Convert(number, checked, policy));
  return results;
}

PhoneResult TryNormalizeAddress(std::string_view address, std::string_view region,
                                PhonePolicy policy) {
  const std::string checked = CheckedRegion(region);
  if (!StartsWithIgnoreCase(address, kWhatsAppPrefix)) return Convert(address, checked, policy);
  PhoneResult result = Convert(address.substr(kWhatsAppPrefix.size()), checked, policy);
  result.input = std::string(address);
  if (result.ok()) result.e164.insert(0, kWhatsAppPrefix);
  return result;
}

std::string NormalizeAddress(std::string_view address, std::string_view region,
                             PhonePolicy policy) {
  PhoneResult result = TryNormalizeAddress(address, region, policy);
  if (!result.ok()) ThrowRejected(std::move(result));
  return std::move(result.e164);
}

NumberInfo GetNumberInfo(std::string_view number, std::string_view region, PhonePolicy policy) {
  const std::string checked = CheckedRegion(region);
  PhoneNumber parsed;
  const std::string_view reason = Evaluate(number, checked, policy, parsed);
  if (!reason.empty()) throw InvalidPhoneNumber(std::string(number), std::string(reason));
  const PhoneNumberUtil& util = Util();
  NumberInfo info;
  util.Format(parsed, PhoneNumberUtil::E164, &info.e164);
  info.type = ToNumberType(util.GetNumberType(parsed));
  util.GetRegionCodeForNumber(parsed, &info.region);
  info.country_code = parsed.country_code();
  return info;
}

namespace internal {

PhoneResult TryToE164WithoutFastPath(std::string_view number, std::string_view region,
                                     PhonePolicy policy) {
  return Convert(number, CheckedRegion(region), policy, /*fast=*/false);
}

std::optional<std::pair<int, std::uint64_t>> FastPathNumber(std::string_view number) {
  PhoneNumber parsed;
  if (!ParseNanpE164(number, parsed)) return std::nullopt;
  return std::pair<int, std::uint64_t>(parsed.country_code(), parsed.national_number());
}

std::optional<bool> CompiledRegionValidity(std::string_view region, std::string_view national) {
  const RegionValidity* validity = CompiledRegion(std::string(region));
  if (validity == nullptr) return std::nullopt;
  return validity->IsValid(national);
}

std::optional<bool> DigitPatternFullMatch(std::string_view pattern, std::string_view digits) {
  const auto compiled = DigitPattern::Compile(pattern);
  if (!compiled) return std::nullopt;
  return compiled->FullMatch(digits);
}

}  // namespace internal

std::string CheckRegion(std::string_view region) { return CheckedRegion(region); }

const char* PhoneMetadataVersion() noexcept { return TWILIOCORE_LIBPHONENUMBER_VERSION; }

}  // namespace twiliocore
