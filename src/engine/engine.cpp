// The engine's facade, its connection state machine and its clock.
#include <algorithm>

#include "state.hpp"

namespace ocpp {

std::shared_ptr<const SessionOptions> complete_options(std::shared_ptr<const SessionOptions> options) {
  if (options->logger && options->clock) return options;
  auto copy = std::make_shared<SessionOptions>(*options);
  if (!copy->logger) copy->logger = default_logger();
  copy->clock = or_steady(std::move(copy->clock));
  return copy;
}

RpcEngine::State::State(EngineHost& h, std::shared_ptr<const SessionOptions> o, std::string id, SessionHooks k)
    : host(h),
      shared_options(complete_options(std::move(o))),
      options(*shared_options),
      call_concurrency(std::max<std::size_t>(1, options.call_concurrency)),
      hooks(std::move(k)),
      identity(std::move(id)) {
  if (options.rate_limit.global || !options.rate_limit.per_action.empty())
    rate_limiter = std::make_unique<MessageRateLimiter>(options.rate_limit, options.clock);
}

void log_callback_error(Logger& logger, std::string_view identity, std::string_view event,
                        std::exception_ptr error) noexcept {
  try {
    logger.log(LogLevel::error, "rpc", identity,
               std::string(event) + " callback threw: " + describe_exception(std::move(error)));
  } catch (...) {
    // Out of memory for the message: nothing more to do here.
  }
}

void RpcEngine::State::log(LogLevel level, std::string_view message) const {
  logger().log(level, "rpc", identity, message);
}

void RpcEngine::State::observe(const MessageEvent& e) {
  if (options.exchange_log)
    log_exchange(logger(), LogLevel::info, "rpc", identity,
                 Exchange{.inbound = e.direction == MessageDirection::in, .type = e.type, .message_id = e.message_id,
                          .action = e.action, .latency_ms = e.latency_ms, .error_code = e.error_code});
  if (hooks.message) hooks.message(e);
  emit("on_message", events.message, e);
}

bool RpcEngine::State::write(std::string frame, MessageType type, std::string_view id, std::string_view action,
                             std::string_view error_code) {
  if (!attached || !room_for(frame.size())) return false;
  deliver(std::move(frame), type, id, action, error_code);
  return true;
}

void RpcEngine::State::deliver(std::string frame, MessageType type, std::string_view id, std::string_view action,
                               std::string_view error_code) {
  if (!attached) return;
  // Observed before it is handed over, so the frame is not copied.
  if (observed()) observe(MessageEvent{MessageDirection::out, type, id, action, frame, std::nullopt, error_code});
  host.write(std::move(frame));
}

bool RpcEngine::State::room_for(std::size_t bytes) {
  const std::size_t limit = options.max_send_queue_bytes;
  if (limit == 0) return true;
  const std::size_t queued = host.queued_bytes();
  if (queued <= limit && bytes <= limit - queued) return true;
  overflow_send_queue(bytes, queued);
  return false;
}

// The peer does not read what we send. Its frames are not worth more memory: the connection is
// closed as if it had dropped (a client reconnects), and the frames queued before the close frame
// get close_timeout to go out.
void RpcEngine::State::overflow_send_queue(std::size_t frame_bytes, std::size_t queued) {
  if (send_queue_overflowed) return;  // one event and one close per connection
  send_queue_overflowed = true;
  const SendQueueOverflowEvent event{queued, frame_bytes, options.max_send_queue_bytes,
                                     static_cast<std::uint16_t>(options.send_queue_overflow)};
  log(LogLevel::warn, "send queue full: " + std::to_string(frame_bytes) + " bytes do not fit behind " +
                          std::to_string(queued) + " not yet written (max_send_queue_bytes " +
                          std::to_string(event.limit) + "); closing with " + std::to_string(event.close_code));
  if (hooks.send_queue_overflow) hooks.send_queue_overflow(event);
  emit("on_send_queue_overflow", events.send_queue_overflow, event);
  if (attached) host.close_transport(event.close_code, "Send queue full");
}

Failure RpcEngine::State::send_queue_full() const {
  return Failure{.kind = FailureKind::send_queue_full,
                 .message = "Send queue full: the peer does not read what is sent to it (max_send_queue_bytes " +
                            std::to_string(options.max_send_queue_bytes) + ")",
                 .close_code = static_cast<std::uint16_t>(options.send_queue_overflow)};
}

Failure connection_failure(std::string message, std::uint16_t close_code) {
  return Failure{.kind = FailureKind::connection, .message = std::move(message), .close_code = close_code};
}

RpcEngine::RpcEngine(EngineHost& host, std::shared_ptr<const SessionOptions> options, std::string identity,
                     SessionHooks hooks)
    : s_(std::make_unique<State>(host, std::move(options), std::move(identity), std::move(hooks))) {
  check_strict_mode_options(s_->options.strict_mode);
}

RpcEngine::~RpcEngine() = default;

const std::string& RpcEngine::identity() const noexcept { return s_->identity; }
const std::string& RpcEngine::protocol() const noexcept { return s_->protocol; }
void RpcEngine::set_protocol(std::string protocol) { s_->set_protocol(std::move(protocol)); }
Role RpcEngine::role() const noexcept { return s_->role; }
void RpcEngine::set_role(Role role) noexcept { s_->role = role; }
ConnectionState RpcEngine::state() const noexcept { return s_->state; }
void RpcEngine::set_state(ConnectionState state) noexcept { s_->state = state; }
const SessionOptions& RpcEngine::options() const noexcept { return s_->options; }
Logger& RpcEngine::logger() const noexcept { return s_->logger(); }
void RpcEngine::log(LogLevel level, std::string_view message) const { s_->log(level, message); }
SessionEvents& RpcEngine::events() noexcept { return s_->events; }
const SessionHooks& RpcEngine::hooks() const noexcept { return s_->hooks; }
void RpcEngine::use(MessageMiddleware middleware) { s_->middleware.push_back(std::move(middleware)); }
TimePoint RpcEngine::now() const { return s_->now(); }
bool RpcEngine::close_requested() const noexcept { return s_->closing_requested; }
const std::optional<CloseResult>& RpcEngine::last_close() const noexcept { return s_->last_close; }

void RpcEngine::set_call_concurrency(std::size_t n) {
  s_->call_concurrency = std::max<std::size_t>(1, n);
  s_->pump_queue();
}

void RpcEngine::open(std::string protocol) {
  s_->set_protocol(std::move(protocol));
  s_->state = ConnectionState::open;
  s_->attached = true;
  s_->close_sent = false;
  s_->bad_messages = 0;
  s_->send_queue_overflowed = false;
  s_->bad_message_log.reset();
}

void RpcEngine::resume() { s_->pump_queue(); }

std::uint64_t RpcEngine::call(std::unique_ptr<OutboundCall> call, std::optional<CallTarget> target) {
  return s_->start_call(std::move(call), target);
}

void RpcEngine::on_frame(std::string_view text) { s_->on_frame(text); }

void RpcEngine::answer(std::string_view id, std::string_view action, bool is_send, Reply reply) {
  s_->answer(id, action, is_send, std::move(reply));
}

void RpcEngine::answer_result(std::string_view id, std::string_view action, bool is_send, boost::json::value& payload) {
  s_->answer_result(id, action, is_send, payload);
}

namespace {
// SENDs have ids of their own, which may repeat a CALL's.
std::string inbound_key(const InboundHandle& h) { return h.is_send ? "send:" + h.id : h.id; }
}  // namespace

void RpcEngine::track(std::shared_ptr<InboundHandle> handle) {
  auto key = inbound_key(*handle);
  s_->inbound.emplace(std::move(key), std::move(handle));
}

void RpcEngine::answer_tracked(const std::shared_ptr<InboundHandle>& handle, Reply reply) {
  auto& s = *s_;
  auto it = s.inbound.find(inbound_key(*handle));
  if (it == s.inbound.end() || it->second != handle)
    return s.log(LogLevel::debug, "answer to " + handle->action + " " + handle->id +
                                      " dropped: the call was cancelled by a close or answered already");
  s.inbound.erase(it);
  s.answer(handle->id, handle->action, handle->is_send, std::move(reply));
  s.maybe_finish_drain();
}

void RpcEngine::advance(const std::shared_ptr<detail::MessageStage>& stage, std::size_t step) {
  s_->advance(stage, step);
}

std::optional<TimePoint> RpcEngine::State::next_deadline() const {
  std::optional<TimePoint> next = drain_deadline;
  for (const auto& [id, call] : pending)
    if (!next || call->deadline < *next) next = call->deadline;
  return next;
}

std::optional<TimePoint> RpcEngine::next_deadline() const { return s_->next_deadline(); }

void RpcEngine::on_timer() {
  auto& s = *s_;
  const auto now = s.now();
  std::vector<std::unique_ptr<OutboundCall>> expired;
  for (auto it = s.pending.begin(); it != s.pending.end();) {
    if (it->second->deadline <= now) {
      expired.push_back(std::move(it->second));
      it = s.pending.erase(it);
    } else {
      ++it;
    }
  }
  // In the order they were made, as separate timers would have fired.
  std::sort(expired.begin(), expired.end(), [](auto& a, auto& b) { return a->serial < b->serial; });
  for (auto& call : expired) s.time_out(std::move(call));
  if (!expired.empty()) s.pump_queue();
  // After the calls: one whose own deadline has passed too fails as a timeout.
  if (s.drain_deadline && *s.drain_deadline <= now) s.expire_drain();
  s.host.schedule(next_deadline());
}

}  // namespace ocpp
