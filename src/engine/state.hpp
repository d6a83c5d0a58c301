#pragma once
// Internal: the engine's state, shared by the files of src/engine (one idea each).
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ocpp/engine/engine.hpp"

namespace ocpp {

namespace detail {

// One message on its way through the middleware.
struct MessageStage {
  std::weak_ptr<EngineHost> host;  // where decisions go, from any thread
  MessagePhase phase{};
  bool outbound = false;
  Frame frame;
  std::string action;
  std::string identity;
  std::optional<RpcError> rejected;
  std::uint64_t epoch = 0;                   // the lanes it belongs to
  std::function<void(MessageStage&)> done;  // on the engine's thread, at the chain's end
};

}  // namespace detail

struct RpcEngine::State {
  State(EngineHost& host, std::shared_ptr<const SessionOptions> options, std::string identity, SessionHooks hooks);

  EngineHost& host;
  // Shared by every connection made with the same options (a server's, a route's): an idle
  // connection does not carry its own copy. Logger and clock are always set.
  std::shared_ptr<const SessionOptions> shared_options;
  const SessionOptions& options;
  std::size_t call_concurrency;  // set_call_concurrency changes it for this peer only
  SessionHooks hooks;
  SessionEvents events;
  std::string identity;
  std::string protocol;
  ProtocolVersion version = ProtocolVersion::other;
  bool strict = false;  // strict mode applies to the negotiated protocol
  Role role = Role::unspecified;
  ConnectionState state = ConnectionState::closed;
  bool attached = false;  // a transport is there to write to

  // Outbound CALLs: waiting for a slot or the connection, inside the middleware, or sent.
  std::list<std::unique_ptr<OutboundCall>> queue;
  std::list<std::unique_ptr<OutboundCall>> in_chain;
  std::unordered_map<std::string, std::unique_ptr<OutboundCall>> pending;
  std::uint64_t next_serial = 0;
  // Recent calls we stopped waiting for (timed out, cancelled), so their late answers are not
  // blamed on the peer.
  std::vector<std::string> abandoned_ids;

  // Inbound CALLs answered later, by message id ("send:" + id for SENDs).
  std::unordered_map<std::string, std::shared_ptr<InboundHandle>> inbound;
  std::size_t bad_messages = 0;
  std::unique_ptr<MessageRateLimiter> rate_limiter;

  // Message middleware: one lane per direction; a message waits until the one before it in its
  // direction has passed every middleware.
  struct Lane {
    // A list, not a deque: libstdc++'s empty deque allocates ~600 B, paid by every idle connection.
    std::list<std::shared_ptr<detail::MessageStage>> waiting;
    std::shared_ptr<detail::MessageStage> current;
  };
  std::vector<MessageMiddleware> middleware;
  Lane in_lane, out_lane;
  std::uint64_t lane_epoch = 0;

  // The send queue overflowed on this connection: its close is under way, calls fail fast. open()
  // clears it.
  bool send_queue_overflowed = false;

  // Log lines about bad messages, within options.bad_message_log: made at the first one.
  std::unique_ptr<LogThrottle> bad_message_log;

  bool closing_requested = false;
  bool drain_before_close = false;
  std::optional<TimePoint> drain_deadline;  // while draining
  bool close_sent = false;                  // our close frame is out (or the transport dropped)
  CloseOptions close_options;
  std::optional<CloseResult> last_close;

  Logger& logger() const noexcept { return *options.logger; }
  TimePoint now() const { return options.clock(); }
  // The earliest call deadline or the drain's.
  std::optional<TimePoint> next_deadline() const;
  void log(LogLevel level, std::string_view message) const;
  bool observed() const noexcept { return events.message || hooks.message || options.exchange_log; }
  void observe(const MessageEvent& e);
  // The user's callback `f` for `event`; what it throws is logged and reported, never propagated.
  // False when it threw.
  template <class F, class... Args>
  bool emit(std::string_view event, const F& f, Args&&... args) {
    return invoke_event(hooks, logger(), identity, event, f, std::forward<Args>(args)...);
  }
  // Hands a frame to the host, unless the send queue has no room for it: false then (and the
  // overflow is handled).
  bool write(std::string frame, MessageType type, std::string_view id, std::string_view action,
             std::string_view error_code = {});
  // write() without the checks, for a frame room_for() has admitted.
  void deliver(std::string frame, MessageType type, std::string_view id, std::string_view action,
               std::string_view error_code = {});
  // Whether `bytes` more fit within max_send_queue_bytes; when not, the queue has overflowed.
  bool room_for(std::size_t bytes);
  void overflow_send_queue(std::size_t frame_bytes, std::size_t queued);
  Failure send_queue_full() const;

  // outbound.cpp
  std::uint64_t start_call(std::unique_ptr<OutboundCall> call, const std::optional<CallTarget>& target);
  std::optional<Failure> check_target(std::string_view action, const CallTarget& target) const;
  void pump_queue();
  void write_call(std::unique_ptr<OutboundCall> call);
  void send_call(std::unique_ptr<OutboundCall> call);
  std::size_t calls_in_flight() const noexcept { return pending.size() + in_chain.size(); }
  // Takes a sent call out of `pending`; the shell's timer is released once none is left (but the drain's).
  std::unique_ptr<OutboundCall> take_pending(decltype(pending)::iterator it);
  void fail_unsent(std::unique_ptr<OutboundCall> call, Failure failure);
  void time_out(std::unique_ptr<OutboundCall> call);
  void abandon(const std::string& id);
  void fail_pending(const std::string& why, std::uint16_t close_code = 0);
  void fail_queued(const std::string& why);

  // inbound.cpp
  void on_frame(std::string_view text);
  void on_bad_frame(std::string_view raw, const FrameError& error);
  // Whether the message over the limit goes on (the rate-limit event let it through).
  bool over_rate_limit(const Frame& f);
  void count_bad_message();
  // A line about a bad message from the peer: logged within options.bad_message_log, else counted.
  void log_bad_message(LogLevel level, std::string message);
  // At the end of a connection: how many bad-message lines were suppressed since the last one.
  void log_suppressed_bad_messages();
  void handle_call(Frame& frame);
  void handle_response(Frame& frame);
  void complete_response(std::unique_ptr<OutboundCall> call, Frame& frame);
  void answer(std::string_view id, std::string_view action, bool is_send, Reply reply);
  void answer_result(std::string_view id, std::string_view action, bool is_send, boost::json::value& payload);
  void send_result(std::string_view id, std::string_view action, const boost::json::value& payload);
  void send_error(std::string_view id, std::string_view action, ErrorCode code, std::string_view description,
                  const boost::json::object& details);
  void cancel_inbound();
  // A CALL or SEND that arrives while we close: refused (before our close frame) or dropped.
  void refuse_while_closing(const Frame& f);

  // close.cpp
  void maybe_finish_drain();
  void expire_drain();
  // Fails and cancels everything in flight, then starts the closing handshake.
  void close_now(const std::string& why);
  void close_transport();

  // strict.cpp
  void set_protocol(std::string p);
  // The reason `payload` fails the schema of `action`, or nullopt when it passes or is not
  // validated on this connection.
  std::optional<schema::ValidationError> strict_failure(std::string_view action, bool response,
                                                        const boost::json::value& payload) const;
  void report_validation_failure(ValidationPhase phase, MessageType type, std::string_view action,
                                 std::string_view id, const boost::json::value& payload,
                                 const schema::ValidationError& error, ErrorCode code);

  // middleware.cpp
  void through_middleware(MessagePhase phase, Frame frame, std::string action,
                          std::function<void(detail::MessageStage&)> done);
  void start_lane(Lane& lane);
  void advance(const std::shared_ptr<detail::MessageStage>& stage, std::size_t step);
  void finish_stage(Lane& lane);
  void clear_lanes();
};

Failure connection_failure(std::string message, std::uint16_t close_code = 0);

}  // namespace ocpp
