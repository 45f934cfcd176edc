#include "phone_patterns.h"

#include <algorithm>
#include <utility>

namespace twiliocore::internal {

namespace {
constexpr std::size_t kMaxDigits = 30;  // DigitPattern::Positions holds a bit per position
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
  return compiled;
}

std::optional<DigitPattern::Input> DigitPattern::Read(std::string_view digits) noexcept {
  if (digits.size() > kMaxDigits) return std::nullopt;
  Input input;
  input.length = digits.size();
  for (std::size_t i = 0; i < digits.size(); ++i) {
    const int d = digits[i] - '0';
    if (d < 0 || d > 9) return std::nullopt;
    input.at[static_cast<std::size_t>(d)] |= Positions{1} << i;
  }
  if (!digits.empty()) input.first = digits[0] - '0';
  return input;
}

bool DigitPattern::FullMatch(std::string_view digits) const {
  const std::optional<Input> input = Read(digits);
  return input && FullMatch(*input);
}

bool DigitPattern::FullMatch(const Input& input) const {
  const Node& root = nodes_[static_cast<std::size_t>(root_)];
  if (input.first >= 0 && !root.nullable && (root.first >> input.first & 1U) == 0) return false;
  const Positions ends = Match(root_, 1, input.at, input.length);
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
