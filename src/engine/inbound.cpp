// What the peer sends: its CALLs and SENDs (duplicate ids, handlers, answers), the answers to our
// calls, and the bad-message budget.
#include <algorithm>

#include "state.hpp"

namespace ocpp {

namespace json = boost::json;

void RpcEngine::State::on_frame(std::string_view text) {
  if (text.empty() && options.ignore_empty_frames) return;
  ParseResult r = parse_frame(text, version, options.parse);
  if (!r.ok()) return on_bad_frame(text, r.error);
  Frame& f = r.frame;
  switch (f.type) {
    case MessageType::Call:
    case MessageType::Send:
      if (observed()) observe(MessageEvent{MessageDirection::in, f.type, f.id, f.action, text, std::nullopt});
      if (rate_limiter && !rate_limiter->allow(f.action) && !over_rate_limit(f)) return;
      if (!middleware.empty()) {
        std::string action = f.action;
        return through_middleware(MessagePhase::incoming_call, std::move(f), std::move(action),
                                  [this](detail::MessageStage& st) {
                                    if (!st.rejected) return handle_call(st.frame);
                                    if (st.frame.type == MessageType::Call) {
                                      const auto& e = *st.rejected;
                                      answer(st.frame.id, st.action, false,
                                             Reply::error(e.code(), e.description(), e.details()));
                                    }
                                  });
      }
      handle_call(f);
      break;
    case MessageType::CallResult:
    case MessageType::CallError:
      if (observed()) {
        auto it = pending.find(f.id);
        std::optional<double> latency;
        std::string_view action;
        if (it != pending.end()) {
          action = it->second->action;
          latency = std::chrono::duration<double, std::milli>(now() - it->second->sent_at).count();
        }
        observe(MessageEvent{MessageDirection::in, f.type, f.id, action, text, latency, f.error_code_text});
      }
      if (!middleware.empty()) {
        auto it = pending.find(f.id);
        std::string action = it != pending.end() ? it->second->action : std::string();
        const auto phase = f.type == MessageType::CallResult ? MessagePhase::incoming_result : MessagePhase::incoming_error;
        return through_middleware(phase, std::move(f), std::move(action), [this](detail::MessageStage& st) {
          if (!st.rejected) return handle_response(st.frame);
          auto it = pending.find(st.frame.id);
          if (it == pending.end()) return;
          auto call = take_pending(it);
          call->complete(Failure{.kind = FailureKind::rpc_error, .message = st.rejected->what(), .rpc = st.rejected},
                         {}, false);
          pump_queue();
        });
      }
      handle_response(f);
      break;
    case MessageType::CallResultError:
      if (observed()) observe(MessageEvent{MessageDirection::in, f.type, f.id, {}, text, std::nullopt, f.error_code_text});
      bad_messages = 0;
      log(LogLevel::warn, "CALLRESULTERROR for " + f.id + ": " + f.error_code_text + " " + f.description);
      if (events.call_result_error)
        emit("on_call_result_error", events.call_result_error,
             CallResultErrorEvent{f.id, f.error_code_text, f.description, f.details});
      break;
  }
}

bool RpcEngine::State::over_rate_limit(const Frame& f) {
  const auto taken = options.rate_limit.on_exceeded;
  // A flood over the limit is a flood of lines too: within the bad-message budget.
  log_bad_message(LogLevel::warn, "rate limit exceeded by " + f.action + " " + f.id);
  RateLimitEvent event{f.action, f.id, taken,
                       taken == LimitAction::disconnect ? RateLimitDecision::disconnect : RateLimitDecision::drop};
  if (events.rate_limit) {
    // Only callback mode leaves the decision to the event; a callback that threw has not decided.
    RateLimitEvent seen = event;
    if (emit("on_rate_limit_exceeded", events.rate_limit, seen) && taken == LimitAction::callback)
      event.decision = seen.decision;
  }
  if (hooks.rate_limited) hooks.rate_limited(event);
  if (event.decision == RateLimitDecision::disconnect && state == ConnectionState::open)
    host.close_session(CloseOptions{close_code::policy_violation, "Rate limit exceeded", false, false});
  return event.decision == RateLimitDecision::allow;
}

void RpcEngine::State::on_bad_frame(std::string_view raw, const FrameError& error) {
  std::string reply;
  if (error.reply) {
    const auto code = wire_name(error.code, version);
    reply = serialize_call_error(error.id, code, error.message, {});
    write(reply, MessageType::CallError, error.id, {}, code);
  }
  if (error.is_response) {
    // A malformed answer to one of our calls: fail that call now rather than let it time out, and
    // on ocpp2.1 tell the peer with a CALLRESULTERROR (there is no frame for it before 2.1).
    if (auto it = pending.find(error.id); it != pending.end()) {
      auto call = take_pending(it);
      RpcError e(ErrorCode::FormatViolation, error.message);
      call->complete(Failure{.kind = FailureKind::rpc_error, .message = e.what(), .rpc = std::move(e)}, {}, false);
      if (error.type == MessageType::CallResult && features_of(version).call_result_errors) {
        const auto code = wire_name(ErrorCode::FormatViolation, version);
        reply = serialize_call_result_error(error.id, code, error.message, {});
        write(reply, MessageType::CallResultError, error.id, call->action, code);
      }
      pump_queue();
    }
  }
  log_bad_message(LogLevel::warn, "bad message: " + error.message);
  if (events.bad_message) emit("on_bad_message", events.bad_message, BadMessageEvent{raw, error.message, reply});
  count_bad_message();
}

// A peer that sends garbage at 500 frames/s must not write 500 lines/s: a token bucket per
// connection, on the session's clock.
void RpcEngine::State::log_bad_message(LogLevel level, std::string message) {
  const TimePoint t = now();
  if (!bad_message_log) bad_message_log = std::make_unique<LogThrottle>(options.bad_message_log, t);
  const auto suppressed = bad_message_log->admit(t);
  if (!suppressed) return;
  if (*suppressed > 0) message += " (" + std::to_string(*suppressed) + " similar lines suppressed before this one)";
  log(level, message);
}

void RpcEngine::State::log_suppressed_bad_messages() {
  if (!bad_message_log) return;
  if (const auto suppressed = bad_message_log->take_suppressed())
    log(LogLevel::warn, "bad message: " + std::to_string(suppressed) + " similar lines suppressed since the last one");
}

void RpcEngine::State::count_bad_message() {
  if (++bad_messages > options.max_bad_messages && state == ConnectionState::open)
    host.close_session(CloseOptions{close_code::protocol_error, "Too many bad messages", false, false});
}

void RpcEngine::State::handle_call(Frame& f) {
  if (state == ConnectionState::closing) return refuse_while_closing(f);
  const bool is_send = f.type == MessageType::Send;
  if (!is_send && inbound.count(f.id)) {
    const auto code = wire_name(ErrorCode::RpcFrameworkError, version);
    std::string reply = serialize_call_error(f.id, code, "Already processing a call with message id " + f.id, {});
    write(reply, MessageType::CallError, f.id, f.action, code);
    if (events.bad_message) emit("on_bad_message", events.bad_message, BadMessageEvent{{}, "duplicate message id", reply});
    count_bad_message();
    return;
  }
  bad_messages = 0;
  HandlerRef handler = host.find_handler(f.action);
  if (!handler) {
    if (is_send) return log(LogLevel::warn, "no handler for SEND " + f.action);
    return answer(f.id, f.action, false,
                  Reply::error(ErrorCode::NotImplemented, "Action " + f.action + " is not known by the receiver"));
  }
  if (auto failure = strict_failure(f.action, false, f.payload)) {
    // A schema-less action refused by reject_unknown_actions is unknown to us, not malformed.
    const bool unknown = failure->keyword == "action";
    const ErrorCode code = unknown ? ErrorCode::NotImplemented : error_code_for_keyword(failure->keyword);
    report_validation_failure(ValidationPhase::inbound_call, f.type, f.action, f.id, f.payload, *failure, code);
    if (is_send) return;
    if (unknown) return answer(f.id, f.action, false, Reply::error(code, failure->message));
    ValidationFailure e(f.action, false, *failure);
    return answer(f.id, f.action, false, Reply::error(e.code(), e.description(), e.details()));
  }
  InboundRequest call{f.action, f.id, f.payload, is_send};
  host.run_handler(handler, call);
}

// OCPP-J (1.6 and 2.0.1 part 4) has no frame that says "closing"; a side that closes starts no new
// work. Until our close frame is out the peer does not know we close, so it hears why; after it,
// an answer may never be read, and the peer learns from the close itself.
void RpcEngine::State::refuse_while_closing(const Frame& f) {
  const bool is_send = f.type == MessageType::Send;
  const std::string what = (is_send ? "SEND " : "CALL ") + f.action + " " + f.id;
  if (is_send || close_sent) return log(LogLevel::warn, what + " dropped: the connection is closing");
  log(LogLevel::info, what + " refused: the connection is closing");
  // ocpp1.6 has no RpcFrameworkError (its wire name is FormationViolation, a malformed payload).
  const auto code = version == ProtocolVersion::v16 ? ErrorCode::GenericError : ErrorCode::RpcFrameworkError;
  answer(f.id, f.action, false, Reply::error(code, "The connection is closing"));
}

void RpcEngine::State::answer(std::string_view id, std::string_view action, bool is_send, Reply reply) {
  if (is_send) {
    if (reply.kind == Reply::Kind::error) log(LogLevel::warn, "SEND handler for " + std::string(action) + " failed");
    return;
  }
  switch (reply.kind) {
    case Reply::Kind::none:
      return;
    case Reply::Kind::result:
      return answer_result(id, action, false, reply.payload);
    case Reply::Kind::error: {
      if (reply.description.empty()) reply.description = default_description(reply.code);
      if (middleware.empty()) return send_error(id, action, reply.code, reply.description, reply.details);
      Frame frame{MessageType::CallError,     std::string(id),      std::string(action),
                  {},                         reply.code,           std::string(wire_name(reply.code, version)),
                  std::move(reply.description), std::move(reply.details)};
      return through_middleware(MessagePhase::outgoing_error, std::move(frame), std::string(action),
                                [this](detail::MessageStage& st) {
                                  if (st.rejected) {
                                    const auto& e = *st.rejected;
                                    return send_error(st.frame.id, st.action, e.code(), e.description(), e.details());
                                  }
                                  // A middleware may have changed the code's text; the enum follows it.
                                  const auto& f = st.frame;
                                  send_error(f.id, st.action, parse_error_code(f.error_code_text), f.description,
                                             f.details);
                                });
    }
  }
}

void RpcEngine::State::answer_result(std::string_view id, std::string_view action, bool is_send, json::value& payload) {
  if (is_send) return;
  if (middleware.empty()) return send_result(id, action, payload);
  through_middleware(MessagePhase::outgoing_result,
                     Frame{MessageType::CallResult, std::string(id), std::string(action), std::move(payload)},
                     std::string(action), [this](detail::MessageStage& st) {
                       if (!st.rejected) return send_result(st.frame.id, st.action, st.frame.payload);
                       const auto& e = *st.rejected;
                       send_error(st.frame.id, st.action, e.code(), e.description(), e.details());
                     });
}

void RpcEngine::State::send_result(std::string_view id, std::string_view action, const json::value& payload) {
  if (auto failure = strict_failure(action, true, payload)) {
    // The peer never sees an invalid payload from us; the details stay in our log and event.
    report_validation_failure(ValidationPhase::handler_result, MessageType::CallResult, action, id, payload, *failure,
                              ErrorCode::InternalError);
    return send_error(id, action, ErrorCode::InternalError, "The response failed schema validation", {});
  }
  write(serialize_call_result(id, payload), MessageType::CallResult, id, action);
}

void RpcEngine::State::send_error(std::string_view id, std::string_view action, ErrorCode code,
                                  std::string_view description, const json::object& details) {
  const auto wire = wire_name(code, version);
  write(serialize_call_error(id, wire, description, details), MessageType::CallError, id, action, wire);
}

void RpcEngine::State::handle_response(Frame& f) {
  auto it = pending.find(f.id);
  if (it == pending.end()) {
    const bool late = std::find(abandoned_ids.begin(), abandoned_ids.end(), f.id) != abandoned_ids.end();
    std::string why = late ? "late answer to a call that timed out or was cancelled: " + f.id
                           : "answer to an unknown message id: " + f.id;
    log_bad_message(LogLevel::info, why);
    if (events.bad_message) emit("on_bad_message", events.bad_message, BadMessageEvent{{}, why, {}});
    if (!late && options.count_unknown_responses) count_bad_message();
    return;
  }
  bad_messages = 0;
  auto call = take_pending(it);
  complete_response(std::move(call), f);
  pump_queue();
}

void RpcEngine::State::complete_response(std::unique_ptr<OutboundCall> call, Frame& f) {
  if (f.type == MessageType::CallError) {
    RpcError e(std::move(f.error_code_text), std::move(f.description), std::move(f.details));
    return call->complete(Failure{.kind = FailureKind::rpc_error, .message = e.what(), .rpc = std::move(e)}, {}, false);
  }
  auto failure = strict_failure(call->action, true, f.payload);
  if (!failure) return call->complete(std::nullopt, std::move(f.payload), false);
  ValidationFailure e(call->action, true, *failure);
  report_validation_failure(ValidationPhase::inbound_result, MessageType::CallResult, call->action, f.id, f.payload,
                            *failure, e.code());
  if (features_of(version).call_result_errors) {
    const auto code = wire_name(e.code(), version);
    write(serialize_call_result_error(f.id, code, e.description(), e.details()), MessageType::CallResultError, f.id,
          call->action, code);
  }
  call->complete(Failure{.kind = FailureKind::validation, .message = e.what(), .validation = std::move(e)}, {}, false);
}

void RpcEngine::State::cancel_inbound() {
  auto running = std::move(inbound);
  inbound.clear();
  for (auto& [key, call] : running) call->cancel();
}

}  // namespace ocpp
