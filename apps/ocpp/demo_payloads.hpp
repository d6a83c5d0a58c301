#pragma once
// Valid payloads of the demo CSMS and simulator, per protocol version. Built outside coroutines
// (g++ 12 miscompiles braced initialisers inside them).
#include <boost/json/value.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "ocpp/rpc/protocol.hpp"

namespace ocpp::app {

void print_exchange(std::string_view identity, bool inbound, std::string_view raw);

// CSMS side: the answer to a charge point's CALL, or nullptr when the demo has none.
boost::json::value csms_response(ProtocolVersion v, std::string_view action, const boost::json::value& params,
                                 int transaction_id);
// CSMS side: the call made to each station after it boots (configuration read-back).
std::string csms_followup_action(ProtocolVersion v);
boost::json::value csms_followup_payload(ProtocolVersion v);
// CSMS side, `ocpp serve --demo-flows`: the remote start sent after a boot, and the TxProfile limit
// set on each transaction a station starts.
std::string csms_remote_start_action(ProtocolVersion v);
boost::json::value csms_remote_start(ProtocolVersion v, int remote_start_id);
// The id of the transaction a station's call started (read from the call and the demo's answer),
// or nothing when the call started none.
std::optional<boost::json::value> started_transaction(ProtocolVersion v, std::string_view action,
                                                      const boost::json::value& params,
                                                      const boost::json::value& response);
boost::json::value csms_tx_profile(ProtocolVersion v, const boost::json::value& transaction_id, int profile_id);

// Charge point side.
boost::json::value cp_boot(ProtocolVersion v);
boost::json::value cp_status(ProtocolVersion v, std::string_view status);
boost::json::value cp_authorize(ProtocolVersion v, std::string_view id_tag);
boost::json::value cp_start(ProtocolVersion v, std::string_view id_tag, const std::string& tx_id);
boost::json::value cp_meter(ProtocolVersion v, const std::string& tx_id, int wh, int seq);
boost::json::value cp_stop(ProtocolVersion v, const std::string& tx_id, int wh, int seq);
// The charge point's answer to a CSMS call it supports, or nullptr.
boost::json::value cp_response(ProtocolVersion v, std::string_view action, const boost::json::value& params);

}  // namespace ocpp::app
