#pragma once
// The server's side of the cluster: the node's events (run a routed call on a station here, evict,
// fence, a broadcast from another node) and routing a call to a station that is not here.
#include <boost/asio/any_completion_handler.hpp>
#include <boost/json/value.hpp>

#include <memory>
#include <string>

#include "ocpp/cluster/node.hpp"
#include "ocpp/server/server.hpp"

namespace ocpp::detail {

struct ServerCore;

// Null when the server is not clustered. The node holds the core weakly.
std::shared_ptr<cluster::ClusterNode> make_cluster_node(const std::shared_ptr<ServerCore>& core);

// A CALL to `identity` through the cluster (or, unclustered, the "not connected" failure),
// completing on `ex`. `protocol` empty: whatever the station speaks. `log_failure`: say why it
// failed in the log (safe_send_to_client).
void route_call(ServerCore& core, boost::asio::any_io_executor ex, std::string identity, std::string protocol,
                std::string action, boost::json::value payload, CallOptions options, bool log_failure,
                boost::asio::any_completion_handler<RpcSession::CallSignature> handler);

// The node's families for /metrics: routed calls by outcome, the store's commands and round-trip
// time, inbox, pending calls, lease renewals and fencings.
std::vector<Metrics::Family> cluster_metrics(const cluster::ClusterNode& node);

// A message on a channel of Server::subscribe, to its handler (none: dropped).
void deliver_channel_message(ServerCore& core, const std::string& channel, const std::string& message);
// The channel the nodes' broadcasts travel on; not for Server::subscribe.
bool is_reserved_channel(std::string_view channel) noexcept;

// A broadcast to every station of the other nodes, at most once, unanswered.
void publish_broadcast(ServerCore& core, const std::string& action, const boost::json::value& payload);

}  // namespace ocpp::detail
