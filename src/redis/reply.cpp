#include "ocpp/redis/reply.hpp"

namespace ocpp::redis {

const Reply& Reply::operator[](std::size_t i) const noexcept {
  static const Reply none;
  return i < elements_.size() ? elements_[i] : none;
}

std::string Reply::to_string() const {
  switch (type_) {
    case Type::nil: return "(nil)";
    case Type::status: return str_;
    case Type::error: return "(error) " + str_;
    case Type::integer: return "(integer) " + std::to_string(integer_);
    case Type::string: return '"' + str_ + '"';
    case Type::array: break;
  }
  std::string out = "[";
  for (std::size_t i = 0; i < elements_.size(); ++i) {
    if (i) out += ", ";
    out += elements_[i].to_string();
  }
  return out + "]";
}

std::string_view to_string(ErrorKind kind) noexcept {
  switch (kind) {
    case ErrorKind::disconnected: return "disconnected";
    case ErrorKind::timeout: return "timeout";
    case ErrorKind::server: return "server";
    case ErrorKind::protocol: return "protocol";
    case ErrorKind::tls: return "tls";
  }
  return "unknown";
}

std::string_view Error::code() const noexcept {
  if (kind != ErrorKind::server) return {};
  const std::string_view text(message);
  return text.substr(0, text.find(' '));
}

std::string Error::to_string() const { return std::string(redis::to_string(kind)) + ": " + message; }

std::string Result::to_string() const { return ok() ? value().to_string() : "error " + error().to_string(); }

}  // namespace ocpp::redis
