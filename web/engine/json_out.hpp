#pragma once
// What crosses to JavaScript, as the JSON objects ocpp.js reads (names in its camelCase).
#include <boost/json/object.hpp>

#include <string>
#include <string_view>

#include "ocpp/engine/engine.hpp"

namespace ocpp::web {

boost::json::object to_json(const MessageEvent& e);
boost::json::object to_json(const BadMessageEvent& e);
boost::json::object to_json(const ValidationFailureEvent& e, ProtocolVersion version);
boost::json::object to_json(const CallResultErrorEvent& e);
boost::json::object to_json(const Failure& f, ProtocolVersion version);
boost::json::object to_json(const schema::ValidationError& e, ProtocolVersion version);

// JSON from and to ocpp.js through the engine's own reader and writer (the browser build links
// neither Boost parser nor serializer). parse_json throws std::invalid_argument with the reason.
boost::json::value parse_json(std::string_view text);
// as_object() without Boost's system_error (and with it the table of every Boost.JSON message).
const boost::json::object& object_of(const boost::json::value& v);
std::string to_text(const boost::json::object& o);

}  // namespace ocpp::web
