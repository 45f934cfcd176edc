#include "phone_patterns.h"

#include <algorithm>
#include <map>
#include <utility>

namespace twiliocore::internal {

namespace {

constexpr std::size_t kMaxDigits = DigitPattern::kMaxDigits;  // a bit per position

// A set of positions of a pattern's position automaton, a bit each.
using Bits = std::vector<std::uint64_t>;

void Set(Bits& bits, std::size_t i) { bits[i / 64] |= std::uint64_t{1} << (i % 64); }
bool Has(const Bits& bits, std::size_t i) { return (bits[i / 64] >> (i % 64) & 1U) != 0; }

}  // namespace

struct DigitPattern::Parser {
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

std::optional<DigitPattern> DigitPattern::Compile(std::string_view pattern) {
  DigitPattern compiled;
  Parser parser{pattern, 0, compiled.nodes_};
  const int root = parser.Alternation();
  if (root < 0 || parser.pos != pattern.size()) return std::nullopt;
  compiled.root_ = root;
  // What each node can start with: children come before their parent in nodes_.
  for (Node& node : compiled.nodes_) {
    if (node.kind == Node::Kind::kClass) {
      node.first = node.digits;
      node.nullable = false;
    } else {
      node.nullable = node.kind == Node::Kind::kSequence;
      for (const int index : node.children) {
        const Node& child = compiled.nodes_[static_cast<std::size_t>(index)];
        if (node.kind == Node::Kind::kAlternation) {
          node.first |= child.first;
          node.nullable = node.nullable || child.nullable;
        } else if (node.nullable) {  // a sequence: up to its first child that is not nullable
          node.first |= child.first;
          node.nullable = child.nullable;
        }
      }
    }
    if (node.min == 0) node.nullable = true;
  }
  compiled.BuildAutomaton();
  return compiled;
}

// The position automaton of a pattern (Glushkov): a position per digit class of the pattern
// with its quantifiers written out ({2,4} as two copies and two optional ones, + and * as a
// loop), and which positions may follow which. Built from the parsed nodes.
struct PositionAutomaton {
  // What a sub-pattern can match: whether nothing, its possible first and last positions.
  struct Fragment {
    bool nullable = true;
    std::vector<int> first;
    std::vector<int> last;
  };

  const std::vector<DigitPattern::Node>& nodes;
  std::size_t max_positions;
  std::vector<std::uint16_t> digits;     // per position: the digits it matches
  std::vector<std::vector<int>> follow;  // per position: the positions that may come next
  bool too_large = false;

  Fragment Concat(Fragment a, const Fragment& b) {
    for (const int x : a.last) {
      auto& f = follow[static_cast<std::size_t>(x)];
      f.insert(f.end(), b.first.begin(), b.first.end());
    }
    if (a.nullable) a.first.insert(a.first.end(), b.first.begin(), b.first.end());
    if (!b.nullable) a.last.clear();
    a.last.insert(a.last.end(), b.last.begin(), b.last.end());
    a.nullable = a.nullable && b.nullable;
    return a;
  }

  // Node `index` without its quantifier, with new positions.
  Fragment Body(int index) {
    const DigitPattern::Node& node = nodes[static_cast<std::size_t>(index)];
    using Kind = DigitPattern::Node::Kind;
    if (node.kind == Kind::kClass) {
      if (digits.size() >= max_positions) {
        too_large = true;
        return {};
      }
      const int p = static_cast<int>(digits.size());
      digits.push_back(node.digits);
      follow.emplace_back();
      return {false, {p}, {p}};
    }
    Fragment out;
    if (node.kind == Kind::kAlternation) out.nullable = false;
    for (const int child : node.children) {
      Fragment f = Build(child);
      if (node.kind == Kind::kSequence) {
        out = Concat(std::move(out), f);
      } else {
        out.nullable = out.nullable || f.nullable;
        out.first.insert(out.first.end(), f.first.begin(), f.first.end());
        out.last.insert(out.last.end(), f.last.begin(), f.last.end());
      }
    }
    return out;
  }

  // Node `index` with its quantifier.
  Fragment Build(int index) {
    const DigitPattern::Node& node = nodes[static_cast<std::size_t>(index)];
    Fragment out;
    for (int i = 0; i < node.min && !too_large; ++i) out = Concat(std::move(out), Body(index));
    if (node.max < 0) {
      Fragment loop = Body(index);
      for (const int x : loop.last) {
        auto& f = follow[static_cast<std::size_t>(x)];
        f.insert(f.end(), loop.first.begin(), loop.first.end());
      }
      loop.nullable = true;
      out = Concat(std::move(out), loop);
    } else {
      for (int i = node.min; i < node.max && !too_large; ++i) {
        Fragment optional = Body(index);
        optional.nullable = true;
        out = Concat(std::move(out), optional);
      }
    }
    return out;
  }
};

void DigitPattern::BuildAutomaton() {
  constexpr std::size_t kMaxPositions = 4096;
  PositionAutomaton positions{nodes_, kMaxPositions, {}, {}, false};
  const PositionAutomaton::Fragment root = positions.Build(root_);
  if (positions.too_large) return;
  // Position `start` stands before the first digit; it is followed by the pattern's first.
  const std::size_t start = positions.digits.size();
  positions.follow.push_back(root.first);
  const std::size_t words = (start + 1 + 63) / 64;
  std::vector<Bits> follow(start + 1, Bits(words));
  for (std::size_t p = 0; p <= start; ++p) {
    for (const int q : positions.follow[p]) Set(follow[p], static_cast<std::size_t>(q));
  }
  std::array<Bits, 10> with_digit;
  for (std::size_t d = 0; d < 10; ++d) {
    with_digit[d].assign(words, 0);
    for (std::size_t p = 0; p < start; ++p) {
      if ((static_cast<unsigned>(positions.digits[p]) >> d & 1U) != 0) Set(with_digit[d], p);
    }
  }
  Bits last(words);
  for (const int p : root.last) Set(last, static_cast<std::size_t>(p));

  // Subset construction: a state is the set of positions the digits so far can end on.
  Automaton automaton;
  std::map<Bits, std::int32_t> ids;
  std::vector<Bits> states;
  Bits initial(words);
  Set(initial, start);
  ids.emplace(initial, 0);
  states.push_back(std::move(initial));
  for (std::size_t s = 0; s < states.size(); ++s) {
    Bits reachable(words);
    bool accepting = false;
    for (std::size_t p = 0; p <= start; ++p) {
      if (!Has(states[s], p)) continue;
      for (std::size_t w = 0; w < words; ++w) reachable[w] |= follow[p][w];
      accepting = accepting || (p == start ? root.nullable : Has(last, p));
    }
    std::array<std::int32_t, 10> next{};
    for (std::size_t d = 0; d < 10; ++d) {
      Bits target(words);
      bool any = false;
      for (std::size_t w = 0; w < words; ++w) {
        target[w] = reachable[w] & with_digit[d][w];
        any = any || target[w] != 0;
      }
      if (!any) {
        next[d] = -1;
        continue;
      }
      const auto [it, added] = ids.emplace(target, static_cast<std::int32_t>(states.size()));
      if (added) {
        if (states.size() >= kMaxStates) return;  // too large: keep the position-set matcher
        states.push_back(std::move(target));
      }
      next[d] = it->second;
    }
    automaton.next.push_back(next);
    automaton.accepting.push_back(accepting ? 1 : 0);
  }
  automaton_ = std::move(automaton);
}

std::optional<DigitPattern::Input> DigitPattern::Read(std::string_view digits) noexcept {
  if (digits.size() > kMaxDigits) return std::nullopt;
  Input input;
  input.length = digits.size();
  for (std::size_t i = 0; i < digits.size(); ++i) {
    const int d = digits[i] - '0';
    if (d < 0 || d > 9) return std::nullopt;
    input.digit[i] = static_cast<std::uint8_t>(d);
  }
  return input;
}

bool DigitPattern::FullMatch(std::string_view digits) const {
  const std::optional<Input> input = Read(digits);
  return input && FullMatch(*input);
}

bool DigitPattern::FullMatch(const Input& input) const {
  if (!automaton_.next.empty()) {
    std::int32_t state = 0;
    for (std::size_t i = 0; i < input.length && state >= 0; ++i) {
      state = automaton_.next[static_cast<std::size_t>(state)][input.digit[i]];
    }
    return state >= 0 && automaton_.accepting[static_cast<std::size_t>(state)] != 0;
  }
  return MatchByPositions(input);
}

bool DigitPattern::MatchByPositions(const Input& input) const {
  const Node& root = nodes_[static_cast<std::size_t>(root_)];
  if (input.length > 0 && !root.nullable &&
      (static_cast<unsigned>(root.first) >> input.digit[0] & 1U) == 0) {
    return false;
  }
  Masks masks{};
  for (std::size_t i = 0; i < input.length; ++i) masks[input.digit[i]] |= Positions{1} << i;
  const Positions ends = Match(root_, 1, masks, input.length);
  return (ends >> input.length & 1U) != 0;
}

DigitPattern::Positions DigitPattern::Match(int index, Positions starts, const Masks& masks, std::size_t length) const {
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

DigitPattern::Positions DigitPattern::Once(const Node& node, Positions starts, const Masks& masks, std::size_t length) const {
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
      // The digits at the start positions: a branch that cannot start with one of them (and
      // cannot match empty) is skipped. The national patterns are alternations of hundreds
      // of prefixes, of which one or two can match.
      std::uint16_t present = 0;
      for (std::size_t d = 0; d < masks.size(); ++d) {
        if ((masks[d] & starts) != 0) present = static_cast<std::uint16_t>(present | 1U << d);
      }
      Positions ends = 0;
      for (const int child : node.children) {
        const Node& branch = nodes_[static_cast<std::size_t>(child)];
        if (branch.nullable || (branch.first & present) != 0) {
          ends |= Match(child, starts, masks, length);
        }
      }
      return ends;
    }
  }
  return 0;
}

bool RegionValidity::CompiledDesc::Matches(const DigitPattern::Input& national) const {
  if (!lengths.empty() && std::find(lengths.begin(), lengths.end(),
                                    static_cast<int>(national.length)) == lengths.end()) {
    return false;
  }
  return pattern && pattern->FullMatch(national);
}

std::optional<RegionValidity::CompiledDesc> RegionValidity::Compile(const DescSource& desc) {
  CompiledDesc out;
  out.lengths = desc.lengths;
  if (desc.pattern.empty()) return out;  // never matches
  out.pattern = DigitPattern::Compile(desc.pattern);
  if (!out.pattern) return std::nullopt;
  return out;
}

std::optional<RegionValidity> RegionValidity::Build(const RegionSource& source) {
  RegionValidity v;
  auto general = Compile(source.general);
  if (!general) return std::nullopt;
  v.general_ = std::move(*general);
  for (const DescSource& desc : source.types) {
    auto compiled = Compile(desc);
    if (!compiled) return std::nullopt;
    v.types_.push_back(std::move(*compiled));
  }
  return v;
}

bool RegionValidity::IsValid(std::string_view national) const {
  const std::optional<DigitPattern::Input> input = DigitPattern::Read(national);
  if (!input || !general_.Matches(*input)) return false;
  return std::any_of(types_.begin(), types_.end(),
                     [&input](const CompiledDesc& desc) { return desc.Matches(*input); });
}

}  // namespace twiliocore::internal
