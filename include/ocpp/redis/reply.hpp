#pragma once
/// @file
/// A RESP2 reply as a value, the errors a command can end with, and the completion that receives
/// one or the other. No exceptions on the asynchronous path: a failure is a value.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp::redis {

/// A RESP reply: nil, status, error, integer, bulk string or array (of replies).
class Reply {
 public:
  /// The RESP type of a reply.
  enum class Type : std::uint8_t { nil, status, error, integer, string, array };

  Reply() = default;  ///< nil
  /// A nil reply.
  static Reply nil() { return {}; }
  /// A status reply ("OK").
  static Reply status(std::string text) { return Reply(Type::status, std::move(text)); }
  /// An error reply with its text.
  static Reply error(std::string text) { return Reply(Type::error, std::move(text)); }
  /// A bulk string.
  static Reply string(std::string bytes) { return Reply(Type::string, std::move(bytes)); }
  /// An integer reply.
  static Reply integer(long long value) {
    Reply r;
    r.type_ = Type::integer;
    r.integer_ = value;
    return r;
  }
  /// An array of replies.
  static Reply array(std::vector<Reply> elements) {
    Reply r;
    r.type_ = Type::array;
    r.elements_ = std::move(elements);
    return r;
  }

  /// The reply's type.
  Type type() const noexcept { return type_; }
  /// Whether the reply is nil.
  bool is_nil() const noexcept { return type_ == Type::nil; }
  /// Whether the reply is a status.
  bool is_status() const noexcept { return type_ == Type::status; }
  /// Whether the reply is an error.
  bool is_error() const noexcept { return type_ == Type::error; }
  /// Whether the reply is an integer.
  bool is_integer() const noexcept { return type_ == Type::integer; }
  /// Whether the reply is a bulk string.
  bool is_string() const noexcept { return type_ == Type::string; }
  /// Whether the reply is an array.
  bool is_array() const noexcept { return type_ == Type::array; }

  /// The text of a status, an error or a bulk string; empty for the other types.
  const std::string& str() const noexcept { return str_; }
  /// The text, to move out.
  std::string& str() noexcept { return str_; }
  long long integer() const noexcept { return integer_; }                    ///< 0 unless an integer
  const std::vector<Reply>& elements() const noexcept { return elements_; }  ///< empty unless an array
  /// The elements, to move out.
  std::vector<Reply>& elements() noexcept { return elements_; }
  /// Element i of an array, or a nil reply when there is none.
  const Reply& operator[](std::size_t i) const noexcept;

  /// One line for logs and tests: OK, (error) ERR x, (integer) 3, "bulk", (nil), [a, [b, c]].
  std::string to_string() const;

  /// Same type and contents.
  friend bool operator==(const Reply&, const Reply&) = default;

 private:
  Reply(Type type, std::string text) : type_(type), str_(std::move(text)) {}

  Type type_ = Type::nil;
  long long integer_ = 0;
  std::string str_;
  std::vector<Reply> elements_;
};

/// Why a command got no reply.
enum class ErrorKind : std::uint8_t {
  /// Not connected, or the connection was lost (or stop() ran) with the command queued or sent:
  /// a command that was sent may or may not have run.
  disconnected,
  /// The command's deadline passed. If it had been sent, it may still run on the server.
  timeout,
  /// The server answered with an error reply (message: its text, e.g. "NOSCRIPT ...", "WRONGPASS
  /// ...", "NOGROUP ..."); also when AUTH or SELECT failed while connecting.
  server,
  /// The server's bytes were not RESP; the connection was dropped.
  protocol,
  /// The TLS handshake failed (e.g. the server's certificate was not trusted).
  tls,
};

std::string_view to_string(ErrorKind kind) noexcept;  ///< "disconnected", "timeout", ...

/// Why a command got no reply, with the details.
struct Error {
  ErrorKind kind = ErrorKind::disconnected;  ///< which kind of failure
  std::string message{};  ///< the server's error text, or what went wrong
  /// False when the command never left this client (queued while not connected, or stopped before
  /// it was written): it did not run, whatever the kind.
  bool sent = true;

  /// The server error's first word ("NOSCRIPT", "WRONGTYPE"); empty for the other kinds.
  std::string_view code() const noexcept;
  std::string to_string() const;  ///< "server: NOSCRIPT No matching script..."
  /// Same kind and message.
  friend bool operator==(const Error&, const Error&) = default;
};

/// A command's outcome: the reply, or why there is none. An error reply is an Error of kind server,
/// never a Reply.
class Result {
 public:
  /// A reply.
  Result(Reply reply) : value_(std::move(reply)) {}  // NOLINT: implicit on purpose
  /// A failure.
  Result(Error error) : value_(std::move(error)) {}  // NOLINT

  /// Whether there is a reply.
  bool ok() const noexcept { return value_.index() == 0; }
  /// ok().
  explicit operator bool() const noexcept { return ok(); }
  const Reply& value() const& noexcept { return std::get<0>(value_); }  ///< only when ok()
  /// The reply, to modify; only when ok().
  Reply& value() & noexcept { return std::get<0>(value_); }
  /// The reply, moved out; only when ok().
  Reply&& value() && noexcept { return std::get<0>(std::move(value_)); }
  /// The reply; only when ok().
  const Reply& operator*() const& noexcept { return value(); }
  /// The reply's members; only when ok().
  const Reply* operator->() const noexcept { return &value(); }
  const Error& error() const noexcept { return std::get<1>(value_); }  ///< only when !ok()

  std::string to_string() const;  ///< the reply's to_string(), or "error <kind>: <message>"

 private:
  std::variant<Reply, Error> value_;
};

/// Runs on the connection's executor, exactly once per command. An exception it throws is caught
/// and logged.
using Completion = std::function<void(Result)>;

}  // namespace ocpp::redis
OCPP_API_END
