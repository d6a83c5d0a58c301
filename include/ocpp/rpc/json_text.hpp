#pragma once
/// @file
/// JSON text to boost::json::value and back without Boost.JSON's parser and serializer, for builds in
/// which size counts more than SIMD (OCPP_SMALL_JSON: the browser engine links neither and is 15 KB
/// smaller gzipped). For every input each gives what Boost's gives: the same value (numbers converted
/// as boost::json::parser converts them), the same text, and for a text Boost refuses, Boost's message,
/// so a frame gets the same answer from either build. One exception: Boost picks how it reads a `\u`
/// escape from the bytes left in a 4 KB window of the string, this reader from the bytes left in the
/// text, so past 4 KB a malformed escape can be named differently (refused all the same).
#include <boost/json/value.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

/// What read_json() returns: a value, or Boost's message for the fault.
struct JsonRead {
  /// Whether the text was read.
  bool ok() const noexcept { return error.empty(); }
  boost::json::value value;  ///< the value read
  /// boost::json::error's message for the first fault ("syntax error", "incomplete JSON", ...).
  std::string_view error;
  /// False when a number was too large for a double (1e400 reads as infinity): spares a caller that
  /// refuses those a walk over the value.
  bool finite = true;
};

/// One complete JSON text, as boost::json::parser::write + release with these options read it.
/// Under emscripten (single-threaded) the value lives in the reader's own storage, free lists by
/// size that spare malloc and free for each key and string. Move-construct it where it goes:
/// assigning it to a value of another storage (a default-constructed one) copies the whole tree.
JsonRead read_json(std::string_view text, std::size_t max_depth = 32);

/// `to` takes `from`'s tree and storage (a value, object, array or string): what read_json returns
/// goes where it is kept without the copy an assignment across storages makes.
template <class T>
void adopt(T& to, T&& from) noexcept {
  std::destroy_at(&to);
  std::construct_at(&to, std::move(from));
}

/// Appends the text boost::json::serializer writes for `v`.
void write_json(std::string& out, const boost::json::value& v);
/// The same for an object.
void write_json(std::string& out, const boost::json::object& o);

}  // namespace ocpp
OCPP_API_END
