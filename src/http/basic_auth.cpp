#include "ocpp/http/basic_auth.hpp"

#include "http/text.hpp"

#include <cstdint>

namespace ocpp {
namespace {

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int sextet(char c) {
  const auto pos = kAlphabet.find(c);
  return pos == std::string_view::npos ? -1 : static_cast<int>(pos);
}

std::optional<std::string> base64_decode(std::string_view in) {
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  out.reserve(in.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    const int v = sextet(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 6) return std::nullopt;  // a lone sextet cannot end valid base64
  return out;
}

std::string base64_encode(std::string_view in) {
  std::string out;
  std::uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(acc >> bits) & 0x3f]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(acc << (6 - bits)) & 0x3f]);
  while (out.size() % 4) out.push_back('=');
  return out;
}

}  // namespace

std::string basic_auth_header(std::string_view identity, std::string_view password) {
  std::string user_pass(identity);
  user_pass.push_back(':');
  user_pass.append(password);
  return "Basic " + base64_encode(user_pass);
}

std::optional<std::string> basic_auth_password(std::string_view header, std::string_view identity) {
  if (header.size() < 6 || !detail::iequals(header.substr(0, 6), "Basic ")) return std::nullopt;
  std::string_view encoded = header.substr(6);
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  while (!encoded.empty() && encoded.back() == ' ') encoded.remove_suffix(1);
  auto decoded = base64_decode(encoded);
  if (!decoded || decoded->size() <= identity.size() || decoded->compare(0, identity.size(), identity) != 0 ||
      (*decoded)[identity.size()] != ':')
    return std::nullopt;
  return decoded->substr(identity.size() + 1);
}

bool constant_time_equals(std::string_view a, std::string_view b) noexcept {
  // Always walks the longer one, so the time says nothing of where a difference is.
  const std::size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (std::size_t i = 0; i < n; ++i) {
    const auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    const auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff |= static_cast<unsigned char>(x ^ y);
  }
  return diff == 0;
}

bool is_valid_ocpp_password(ProtocolVersion version, std::string_view p) noexcept {
  auto printable = [&] {
    for (unsigned char c : p)
      if (c < 0x21 || c > 0x7e) return false;
    return true;
  };
  switch (version) {
    case ProtocolVersion::v16: {
      if (p.size() >= 16 && p.size() <= 20) return true;
      const bool hex = p.find_first_not_of("0123456789abcdefABCDEF") == std::string_view::npos;
      return hex && p.size() % 2 == 0 && p.size() >= 32 && p.size() <= 40;
    }
    case ProtocolVersion::v201: return p.size() >= 16 && p.size() <= 40 && printable();
    case ProtocolVersion::v21: return p.size() >= 16 && p.size() <= 64 && printable();
    case ProtocolVersion::other: return !p.empty();
  }
  return false;
}

}  // namespace ocpp
