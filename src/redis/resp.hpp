#pragma once
// Internal: RESP2 both ways. Commands are encoded here; replies are parsed by hiredis' reader
// (its redisReader builds Reply values directly, no redisReply in between). hiredis stays in
// resp.cpp.
#include <charconv>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "ocpp/redis/reply.hpp"

struct redisReader;

namespace ocpp::redis {

// Appends `args` as a RESP array of bulk strings (binary-safe).
template <class Range>
void append_command(std::string& out, const Range& args) {
  std::size_t n = 0, bytes = 16;
  for (const auto& a : args) {
    ++n;
    bytes += std::string_view(a).size() + 16;
  }
  out.reserve(out.size() + bytes);
  char digits[24];
  const auto number = [&](char prefix, std::size_t v) {
    out += prefix;
    out.append(digits, std::to_chars(digits, digits + sizeof digits, v).ptr);
    out += "\r\n";
  };
  number('*', n);
  for (const auto& a : args) {
    const std::string_view s(a);
    number('$', s.size());
    out += s;
    out += "\r\n";
  }
}

template <class Range>
std::string encode_command(const Range& args) {
  std::string out;
  append_command(out, args);
  return out;
}

class ReplyReader {
 public:
  ReplyReader();
  ~ReplyReader();
  ReplyReader(const ReplyReader&) = delete;
  ReplyReader& operator=(const ReplyReader&) = delete;

  // False when the bytes cannot be taken (then error() says why).
  bool feed(const char* data, std::size_t size);
  // The next complete reply; nullopt when more bytes are needed or on a protocol error (error()).
  std::optional<Reply> next();
  // Empty while the stream is well-formed.
  std::string error() const;

 private:
  redisReader* reader_;
};

}  // namespace ocpp::redis
