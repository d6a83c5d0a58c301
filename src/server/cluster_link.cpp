#include "server/cluster_link.hpp"

#include <boost/asio/post.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "ocpp/engine/validation.hpp"
#include "server/core.hpp"

namespace ocpp::detail {
namespace asio = boost::asio;
namespace json = boost::json;
using cluster::Outcome;
using cluster::RoutedCall;
using cluster::RoutedReply;

namespace {

constexpr std::string_view broadcast_channel = "ocpp.broadcast";

RoutedReply reply_of(std::string id, Outcome outcome, std::string description = {}) {
  return RoutedReply{std::move(id), outcome, {}, {}, std::move(description)};
}

// What a station's answer (or the local call's failure) becomes on the wire back to the caller.
RoutedReply to_reply(std::string id, std::exception_ptr error, const json::value& result) {
  if (!error) return RoutedReply{std::move(id), Outcome::result, json::serialize(result), {}, {}};
  try {
    std::rethrow_exception(error);
  } catch (const RpcError& e) {
    return RoutedReply{std::move(id), Outcome::call_error, json::serialize(e.details()), e.wire_code(), e.description()};
  } catch (const TimeoutError& e) {
    return reply_of(std::move(id), Outcome::timeout, e.what());
  } catch (const SendQueueFullError& e) {
    return reply_of(std::move(id), Outcome::overloaded, e.what());
  } catch (const UsageError& e) {
    return reply_of(std::move(id), Outcome::rejected, e.what());
  } catch (const std::exception& e) {
    // Closed while the call was out: the station may have run it.
    return reply_of(std::move(id), Outcome::unknown_outcome, e.what());
  } catch (...) {
    return reply_of(std::move(id), Outcome::unknown_outcome, describe_exception(std::current_exception()));
  }
}

// The caller's side: the reply as the completion of a call.
std::exception_ptr to_error(const std::string& identity, const RoutedReply& reply, json::value& result) {
  try {
    switch (reply.outcome) {
      case Outcome::result:
        result = json::parse(reply.payload);
        return nullptr;
      case Outcome::call_error: {
        json::object details;
        if (!reply.payload.empty())
          if (auto parsed = json::parse(reply.payload); parsed.is_object()) details = std::move(parsed.as_object());
        return std::make_exception_ptr(RpcError(reply.error_code, reply.description, std::move(details)));
      }
      case Outcome::timeout:
        return std::make_exception_ptr(TimeoutError("Call to " + identity + " timed out"));
      default: {
        std::string message = "Call to " + identity + ": " + std::string(cluster::to_string(reply.outcome));
        if (!reply.description.empty()) message += " (" + reply.description + ")";
        return std::make_exception_ptr(cluster::RouteError(reply.outcome, std::move(message)));
      }
    }
  } catch (...) {
    return std::current_exception();  // an answer that is not JSON
  }
}

void deliver(ServerCore& core, RoutedCall call, const std::function<void(RoutedReply)>& reply) {
  auto client = core.registry->find(call.identity);
  if (!client || client->state() != ConnectionState::open) return reply(reply_of(call.id, Outcome::not_connected));
  if (!call.protocol.empty() && client->protocol() != call.protocol)
    return reply(reply_of(call.id, Outcome::rejected, "the station speaks " + client->protocol()));
  json::error_code ec;
  auto payload = json::parse(call.payload, ec);
  if (ec) return reply(reply_of(call.id, Outcome::rejected, "payload is not JSON"));
  const auto left = call.deadline_ms - core.cluster->now_ms();
  if (left <= 0) return reply(reply_of(call.id, Outcome::expired));
  CallOptions options{milliseconds(left), std::move(call.message_id)};
  client->call(std::move(call.action), std::move(payload), std::move(options),
               [reply, id = std::move(call.id)](std::exception_ptr e, json::value result) { reply(to_reply(id, e, result)); });
}

void on_broadcast(ServerCore& core, const std::string& message) {
  json::error_code ec;
  auto parsed = json::parse(message, ec);
  if (ec || !parsed.is_object()) return;
  auto& o = parsed.as_object();
  const auto* from = o.if_contains("node");
  const auto* action = o.if_contains("action");
  const auto* payload = o.if_contains("payload");
  if (!from || !action || !payload || !action->is_string()) return;
  if (from->is_string() && from->as_string() == core.cluster->self().name) return;  // ours: sent locally already
  for (auto& client : core.registry->all())
    client->call(std::string(action->as_string()), *payload, CallOptions{}, [](std::exception_ptr, json::value) {});
}

}  // namespace

std::shared_ptr<cluster::ClusterNode> make_cluster_node(const std::shared_ptr<ServerCore>& core) {
  if (!core->options.cluster.adapter) return nullptr;
  std::weak_ptr<ServerCore> weak = core;
  cluster::ClusterNode::Events events;
  events.deliver = [weak](RoutedCall call, std::function<void(RoutedReply)> reply) {
    auto core = weak.lock();
    if (!core) return reply(reply_of(call.id, Outcome::not_connected));
    deliver(*core, std::move(call), reply);
  };
  events.evict = [weak](const std::string& identity) {
    if (auto core = weak.lock())
      if (auto client = core->registry->find(identity))
        client->close(CloseOptions{close_code::evicted, "Connected to another node", false, false});
  };
  events.fenced = [weak] {
    if (auto core = weak.lock())
      for (auto& client : core->registry->all())
        client->close(CloseOptions{close_code::service_restart, "Node lost its cluster lease", false, false});
  };
  events.message = [weak](const std::string& channel, const std::string& message) {
    auto core = weak.lock();
    if (!core) return;
    if (channel == broadcast_channel)
      on_broadcast(*core, message);
    else
      deliver_channel_message(*core, channel, message);
  };
  auto node = std::make_shared<cluster::ClusterNode>(core->executors.front(), core->options.cluster,
                                                     std::move(events), core->observability->logger_ptr());
  node->subscribe(std::string(broadcast_channel));
  return node;
}

void deliver_channel_message(ServerCore& core, const std::string& channel, const std::string& message) {
  std::function<void(const std::string&)> handler;
  {
    std::lock_guard lock(core.channels_mutex);
    auto it = core.channel_handlers.find(channel);
    if (it == core.channel_handlers.end()) return;
    handler = it->second;
  }
  core.observability->emit({}, "on_cluster_message", handler, message);
}

bool is_reserved_channel(std::string_view channel) noexcept { return channel == broadcast_channel; }

void route_call(ServerCore& core, asio::any_io_executor ex, std::string identity, std::string protocol,
                std::string action, json::value payload, CallOptions options, bool log_failure,
                asio::any_completion_handler<RpcSession::CallSignature> handler) {
  if (!core.cluster) {
    if (log_failure) core.observability->logger().log(LogLevel::warn, "server", identity, action + ": not connected");
    auto error = std::make_exception_ptr(ConnectionError("Client " + identity + " is not connected"));
    return asio::post(ex, [h = std::move(handler), error]() mutable { std::move(h)(error, json::value()); });
  }
  std::shared_ptr<Logger> logger;
  if (log_failure) logger = core.observability->logger_ptr();
  std::string what = log_failure ? action : std::string();
  cluster::ClusterNode::Request request{identity, std::move(protocol), std::move(action), json::serialize(payload),
                                        std::move(options.message_id),
                                        options.timeout.value_or(core.options.call_timeout)};
  // The node completes on its executor; the caller's handler runs on its own.
  auto shared = std::make_shared<asio::any_completion_handler<RpcSession::CallSignature>>(std::move(handler));
  core.cluster->route(std::move(request), [shared, ex, identity = std::move(identity), logger = std::move(logger),
                                            what = std::move(what)](RoutedReply reply) {
    json::value result;
    auto error = to_error(identity, reply, result);
    if (error && logger) logger->log(LogLevel::warn, "server", identity, what + ": " + describe_exception(error));
    asio::post(ex, [shared, error, result = std::move(result)]() mutable { std::move (*shared)(error, std::move(result)); });
  });
}

std::vector<Metrics::Family> cluster_metrics(const cluster::ClusterNode& node) {
  const auto m = node.metrics();
  auto one = [](std::string name, std::string type, std::string help, double value) {
    return Metrics::Family{std::move(name), std::move(type), std::move(help), {}, {{{}, value}}};
  };
  Metrics::Family routed{"ocpp_cluster_routed_calls_total", "counter",
                         "Calls this node routed to other nodes, by how they ended.", "outcome", {}};
  for (std::size_t i = 0; i < cluster::kOutcomes; ++i)
    if (m.routed[i]) routed.samples.push_back({std::string(cluster::to_string(static_cast<Outcome>(i))), double(m.routed[i])});
  const double latency_s = double(m.store.latency_us_sum) / 1e6;
  return {std::move(routed),
          one("ocpp_cluster_pending_calls", "gauge", "Calls this node routed that have not ended yet.", double(m.pending)),
          one("ocpp_cluster_delivered_total", "counter", "Requests routed to this node and sent to its stations.",
              double(m.delivered)),
          one("ocpp_cluster_inbox_entries", "gauge",
              "Requests queued for this node and not yet finished, as of the last lease renewal.", double(m.inbox)),
          one("ocpp_cluster_nodes", "gauge", "Nodes with a live lease, as of the last lease renewal.", double(m.nodes)),
          one("ocpp_cluster_lease_renewals_total", "counter", "Lease renewals that succeeded.", double(m.renewals)),
          one("ocpp_cluster_lease_renewal_failures_total", "counter", "Lease renewals that failed.",
              double(m.renewal_failures)),
          one("ocpp_cluster_fencings_total", "counter", "Times this node fenced itself (lease lost).", double(m.fencings)),
          one("ocpp_cluster_fenced", "gauge", "1 while this node is fenced.", m.fenced ? 1.0 : 0.0),
          one("ocpp_cluster_store_commands_total", "counter", "Commands sent to the cluster's store.", double(m.store.commands)),
          one("ocpp_cluster_store_failures_total", "counter", "Store commands that failed (error, timeout, disconnected).",
              double(m.store.failures)),
          one("ocpp_cluster_store_wait_seconds_total", "counter",
              "Time from store commands to their replies, summed (divide by the next for the mean).", latency_s),
          one("ocpp_cluster_store_timed_total", "counter", "Store commands whose round trip was timed.",
              double(m.store.latency_count))};
}

void publish_broadcast(ServerCore& core, const std::string& action, const json::value& payload) {
  if (!core.cluster) return;
  json::object message{{"node", core.cluster->self().name}, {"action", action}, {"payload", payload}};
  core.cluster->publish(std::string(broadcast_channel), json::serialize(message));
}

}  // namespace ocpp::detail
