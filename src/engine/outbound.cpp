// Outbound CALLs and SENDs: the queue, call concurrency, pending calls and their deadlines.
#include <algorithm>

#include "state.hpp"

namespace ocpp {

namespace json = boost::json;

std::optional<Failure> RpcEngine::State::check_target(std::string_view action, const CallTarget& target) const {
  if (!may_send(role, target.direction))
    return Failure{.kind = FailureKind::usage,
                   .message = std::string(action) + " is not sent by the " +
                              (role == Role::csms ? "CSMS" : "charging station")};
  if (!protocol.empty() && protocol != target.protocol)
    return Failure{.kind = FailureKind::usage,
                   .message = std::string(action) + " of " + std::string(target.protocol) + " cannot be sent on an " +
                              protocol + " connection"};
  return std::nullopt;
}

std::uint64_t RpcEngine::State::start_call(std::unique_ptr<OutboundCall> call, const std::optional<CallTarget>& target) {
  auto fail_now = [&](Failure f) -> std::uint64_t {
    call->complete(std::move(f), {}, true);
    return 0;
  };
  if (target)
    if (auto f = check_target(call->action, *target)) return fail_now(std::move(*f));
  // Not even queued: the call could only wait for the close that is under way.
  if (send_queue_overflowed) return fail_now(send_queue_full());
  if (state == ConnectionState::closed || state == ConnectionState::closing)
    return fail_now(connection_failure(state == ConnectionState::closed ? "Cannot call: connection is closed"
                                                                        : "Cannot call: connection is closing"));
  const bool given_id = !call->id.empty();
  if (!given_id) call->id = options.id_generator ? options.id_generator() : random_message_id();
  if (call->id.empty() || call->id.size() > kMaxMessageIdLength)
    return fail_now(Failure{.message = "Message id must be 1 to 36 characters"});
  // A given id (an idempotency key) may also be waiting to be sent; generated ones are random.
  auto same_id = [&](const auto& c) { return c->id == call->id; };
  if (pending.count(call->id) ||
      (given_id && (std::any_of(queue.begin(), queue.end(), same_id) ||
                    std::any_of(in_chain.begin(), in_chain.end(), same_id))))
    return fail_now(Failure{.message = "A call with message id " + call->id + " is already pending"});
  if (target) call->protocol = target->protocol;
  if (!call->timeout) call->timeout = options.call_timeout;
  const auto serial = call->serial = ++next_serial;

  if (state == ConnectionState::open && attached && queue.empty() && calls_in_flight() < call_concurrency) {
    write_call(std::move(call));
    return serial;
  }
  if (queue.size() >= options.max_queued_calls && !queue.empty()) {
    auto oldest = std::move(queue.front());
    queue.pop_front();
    oldest->complete(connection_failure("Call queue overflow"), {}, false);
  }
  queue.push_back(std::move(call));
  return serial;
}

std::optional<Failure> RpcEngine::send(std::string_view action, const json::value& payload,
                                       std::optional<CallTarget> target) {
  auto& s = *s_;
  if (target)
    if (auto f = s.check_target(action, *target)) return f;
  if (s.send_queue_overflowed) return s.send_queue_full();
  if (s.state != ConnectionState::open) return connection_failure("Cannot send: connection is not open");
  if (!features_of(s.version).send_frames)
    return Failure{.kind = FailureKind::unsupported, .message = "SEND frames need ocpp2.1; negotiated " + s.protocol};
  auto id = s.options.id_generator ? s.options.id_generator() : random_message_id();
  if (auto failure = s.strict_failure(action, false, payload)) {
    ValidationFailure e(action, false, *failure);
    s.report_validation_failure(ValidationPhase::outbound_call, MessageType::Send, action, id, payload, *failure,
                                e.code());
    return Failure{.kind = FailureKind::validation, .message = e.what(), .validation = std::move(e)};
  }
  // Not written while attached: the send queue had no room.
  if (!s.write(serialize_send(id, action, payload), MessageType::Send, id, action) && s.attached)
    return s.send_queue_full();
  return std::nullopt;
}

void RpcEngine::State::pump_queue() {
  const bool can_send = state == ConnectionState::open || (state == ConnectionState::closing && drain_before_close);
  while (can_send && attached && !queue.empty() && calls_in_flight() < call_concurrency) {
    auto call = std::move(queue.front());
    queue.pop_front();
    write_call(std::move(call));
  }
  maybe_finish_drain();
}

void RpcEngine::State::write_call(std::unique_ptr<OutboundCall> call) {
  if (middleware.empty()) return send_call(std::move(call));
  Frame frame{MessageType::Call, call->id, call->action, std::move(call->payload)};
  std::string action = call->action;
  const auto serial = call->serial;
  in_chain.push_back(std::move(call));
  through_middleware(MessagePhase::outgoing_call, std::move(frame), std::move(action),
                     [this, serial](detail::MessageStage& st) {
                       auto it = std::find_if(in_chain.begin(), in_chain.end(),
                                              [&](auto& c) { return c->serial == serial; });
                       if (it == in_chain.end()) return;  // cancelled or failed meanwhile
                       auto call = std::move(*it);
                       in_chain.erase(it);
                       if (st.rejected)
                         return fail_unsent(std::move(call), Failure{.kind = FailureKind::rpc_error,
                                                                     .message = st.rejected->what(),
                                                                     .rpc = std::move(st.rejected)});
                       call->payload = std::move(st.frame.payload);
                       send_call(std::move(call));
                     });
}

void RpcEngine::State::send_call(std::unique_ptr<OutboundCall> call) {
  // Checked here rather than when the call was made: a call made while connecting learns the
  // protocol only now.
  if (!call->protocol.empty() && call->protocol != protocol)
    return fail_unsent(std::move(call),
                       Failure{.kind = FailureKind::usage,
                               .message = call->action + " of " + std::string(call->protocol) +
                                          " cannot be sent on an " + protocol + " connection"});
  if (auto failure = strict_failure(call->action, false, call->payload)) {
    ValidationFailure e(call->action, false, *failure);
    report_validation_failure(ValidationPhase::outbound_call, MessageType::Call, call->action, call->id,
                              call->payload, *failure, e.code());
    return fail_unsent(std::move(call),
                       Failure{.kind = FailureKind::validation, .message = e.what(), .validation = std::move(e)});
  }
  // A generated id that collides (a custom id_generator) fails rather than replace a pending call.
  if (pending.count(call->id))
    return fail_unsent(std::move(call), Failure{.message = "A call with message id " + call->id + " is already pending"});
  std::string frame = serialize_call(call->id, call->action, call->payload);
  if (attached && !room_for(frame.size())) return fail_unsent(std::move(call), send_queue_full());
  call->payload = nullptr;
  call->sent_at = now();
  call->deadline = call->sent_at + *call->timeout;
  host.schedule(call->deadline);
  OutboundCall& ref = *pending.emplace(call->id, std::move(call)).first->second;
  deliver(std::move(frame), MessageType::Call, ref.id, ref.action);
}

std::unique_ptr<OutboundCall> RpcEngine::State::take_pending(decltype(pending)::iterator it) {
  auto call = std::move(it->second);
  pending.erase(it);
  if (pending.empty()) host.schedule(drain_deadline);  // none while not draining
  return call;
}

// Deferred: write_call runs inside call()'s initiation when the connection is open.
void RpcEngine::State::fail_unsent(std::unique_ptr<OutboundCall> call, Failure failure) {
  call->complete(std::move(failure), {}, true);
  maybe_finish_drain();
}

void RpcEngine::State::abandon(const std::string& id) {
  if (abandoned_ids.size() >= 32) abandoned_ids.erase(abandoned_ids.begin());
  abandoned_ids.push_back(id);
}

void RpcEngine::State::time_out(std::unique_ptr<OutboundCall> call) {
  abandon(call->id);
  call->complete(Failure{.kind = FailureKind::timeout,
                         .message = "Call to \"" + call->action + "\" timed out after " +
                                    std::to_string(call->timeout->count()) + " ms"},
                 {}, false);
}

void RpcEngine::cancel(std::uint64_t serial) {
  auto& s = *s_;
  auto cancelled = [&](std::unique_ptr<OutboundCall> call) {
    call->complete(Failure{.kind = FailureKind::cancelled, .message = "Operation cancelled"}, {}, false);
    s.pump_queue();
  };
  for (auto it = s.pending.begin(); it != s.pending.end(); ++it) {
    if (it->second->serial != serial) continue;
    s.abandon(it->second->id);
    return cancelled(s.take_pending(it));
  }
  for (auto* list : {&s.queue, &s.in_chain}) {
    auto it = std::find_if(list->begin(), list->end(), [&](auto& c) { return c->serial == serial; });
    if (it == list->end()) continue;
    auto call = std::move(*it);
    list->erase(it);
    return cancelled(std::move(call));
  }
}

void RpcEngine::State::fail_pending(const std::string& why, std::uint16_t code) {
  auto sent = std::move(pending);
  pending.clear();
  host.schedule(drain_deadline);
  for (auto& [id, call] : sent) call->complete(connection_failure(why, code), {}, false);
  auto chained = std::move(in_chain);
  in_chain.clear();
  for (auto& call : chained) call->complete(connection_failure(why, code), {}, false);
}

void RpcEngine::State::fail_queued(const std::string& why) {
  auto queued = std::move(queue);
  queue.clear();
  for (auto& call : queued) call->complete(connection_failure(why), {}, false);
}

}  // namespace ocpp
