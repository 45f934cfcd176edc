#pragma once

/// @file
/// ASCII case folding and digit checks for protocol text: URL schemes, HTTP methods and header
/// names, region codes, the `whatsapp:` address prefix, short codes. Only A-Z and a-z change
/// and only 0-9 are digits, whatever the process locale (`std::tolower` and `std::isdigit`
/// follow LC_CTYPE, which Python sets from the environment).

#include <string>
#include <string_view>

namespace twiliocore::ascii {

/// `c` in lower case when it is an ASCII capital letter; any other byte unchanged.
[[nodiscard]] constexpr char Lower(char c) noexcept {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

/// `text` with A-Z in lower case.
[[nodiscard]] inline std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = Lower(c);
  return out;
}

/// `c` in upper case when it is an ASCII small letter; any other byte unchanged.
[[nodiscard]] constexpr char Upper(char c) noexcept {
  return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
}

/// `text` with a-z in upper case.
[[nodiscard]] inline std::string ToUpper(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = Upper(c);
  return out;
}

/// True when `a` and `b` are equal ignoring ASCII case.
[[nodiscard]] constexpr bool EqualsIgnoreCase(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (Lower(a[i]) != Lower(b[i])) return false;
  }
  return true;
}

/// True when `text` begins with `prefix`, ignoring ASCII case.
[[nodiscard]] constexpr bool StartsWithIgnoreCase(std::string_view text,
                                                  std::string_view prefix) noexcept {
  return text.size() >= prefix.size() && EqualsIgnoreCase(text.substr(0, prefix.size()), prefix);
}

/// True when `text` is not empty and holds only the digits 0-9.
[[nodiscard]] constexpr bool AllDigits(std::string_view text) noexcept {
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

}  // namespace twiliocore::ascii
