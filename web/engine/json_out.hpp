#pragma once
// What crosses to JavaScript, as the JSON objects ocpp.js reads (names in its camelCase).
#include <boost/json/object.hpp>

#include "ocpp/engine/engine.hpp"

namespace ocpp::web {

boost::json::object to_json(const MessageEvent& e);
boost::json::object to_json(const BadMessageEvent& e);
boost::json::object to_json(const ValidationFailureEvent& e, ProtocolVersion version);
boost::json::object to_json(const CallResultErrorEvent& e);
boost::json::object to_json(const Failure& f, ProtocolVersion version);
boost::json::object to_json(const schema::ValidationError& e, ProtocolVersion version);

}  // namespace ocpp::web
