#pragma once
/// @file
/// What an RPC peer is configured with: SessionOptions, strict mode, per-call and close options.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ocpp/engine/clock.hpp"
#include "ocpp/engine/rate_limit.hpp"
#include "ocpp/log/logger.hpp"
#include "ocpp/rpc/close_code.hpp"
#include "ocpp/rpc/frame.hpp"
#include "ocpp/rpc/message_id.hpp"
#include "ocpp/rpc/visibility.hpp"

OCPP_API_BEGIN
namespace ocpp {

using std::chrono::milliseconds;

/// Schema validation of payloads against the official OCA schemas (ocpp-ws-io's strictMode).
/// Inbound CALLs are checked before the handler runs, outbound CALLs before they are sent, handler
/// results before they are sent, and CALLRESULTs before the call completes. The error codes a
/// failure maps to are in <ocpp/engine/validation.hpp>.
struct StrictModeOptions {
  bool enabled = false;  ///< validate at all
  /// Protocols to validate ("ocpp1.6", "ocpp2.0.1", "ocpp2.1"); empty: all of them. A protocol
  /// without bundled schemas is refused when the client or server is created.
  std::vector<std::string> protocols{};
  /// strictModeMethods: only these actions are validated; empty: every action.
  std::vector<std::string> methods{};
  /// Accept date-times without a UTC offset (chargers on local time); RFC 3339 requires one.
  bool lenient_date_time = false;
  /// An action with no schema in the protocol (a vendor action) is refused - inbound with
  /// NotImplemented, outbound locally - instead of passing unvalidated.
  bool reject_unknown_actions = false;
};

/// How a connection whose send queue overflows (SessionOptions::max_send_queue_bytes) is closed.
enum class SendQueueOverflow : std::uint16_t {
  /// 1013, the default: the peer is behind, which is mostly a slow or congested link (a charger on
  /// a cellular modem), not misbehaviour. The station reconnects with its backoff, as after any
  /// close; our Client does the same when its CSMS stops reading.
  try_again_later = close_code::try_again_later,
  /// 1008: a peer that stops reading is treated as misbehaving, as one over the rate limit is.
  policy_violation = close_code::policy_violation,
};

/// What every RPC peer (client or server-side connection) accepts; defaults follow ocpp-ws-io.
struct SessionOptions {
  milliseconds call_timeout{30000};  ///< default deadline of an outbound CALL (CallOptions::timeout overrides it)
  /// Outbound CALLs in flight at once. OCPP allows one; more is a deliberate deviation.
  std::size_t call_concurrency = 1;
  /// CALLs waiting for a free slot or for the connection; past this the oldest is rejected.
  std::size_t max_queued_calls = 1000;
  /// Consecutive bad frames tolerated; one more closes the connection with 1002.
  std::size_t max_bad_messages = std::numeric_limits<std::size_t>::max();
  /// Largest inbound message; a bigger one closes the connection with 1009.
  std::size_t max_frame_bytes = 64 * 1024;
  /// Outbound bytes the connection holds that its socket has not taken yet (a peer that reads slowly
  /// or not at all; the kernel's own socket buffer is full by then). A frame that does not fit is not
  /// queued: its call or SEND fails with SendQueueFullError, on_send_queue_overflow fires (once), the
  /// connection is closed with `send_queue_overflow`'s code, and calls fail fast until it is gone.
  /// 4 MiB: 64 times the largest message the default max_frame_bytes lets in, far above what OCPP
  /// traffic to one peer queues (one CALL in flight, small answers; a large SendLocalList is a few
  /// hundred KB), and no more than Linux's default tcp_wmem maximum already holds per socket. 0: none.
  std::size_t max_send_queue_bytes = 4 * 1024 * 1024;
  SendQueueOverflow send_queue_overflow = SendQueueOverflow::try_again_later;  ///< the close code of a send queue overflow
  /// WebSocket pings, jittered ±25 %; zero disables them.
  milliseconds ping_interval{30000};
  /// No pong within this after a ping: the connection is dropped. Default ping_interval + 5 s.
  std::optional<milliseconds> pong_timeout;
  /// A close we start waits this long for the peer's close frame and for the peer to close TCP;
  /// then the socket is dropped (the close still completes, with our code).
  milliseconds close_timeout{5000};
  /// A close with await_pending waits this long for what is in flight: running inbound handlers,
  /// and also outbound CALLs, sent or queued (their own timeouts restart for every queued call, so
  /// they alone do not bound the wait). Then handlers are cancelled (their late answers are
  /// ignored), calls fail as connection errors, and the close goes ahead with its code. Unset:
  /// close_timeout.
  std::optional<milliseconds> drain_timeout;
  /// Put the exception's message into CALLERROR details for non-RPC handler errors.
  bool respond_with_detailed_errors = false;
  /// Empty frames are skipped (some chargers send them as keep-alives).
  bool ignore_empty_frames = true;
  /// A CALLRESULT/CALLERROR for an id that is not pending counts toward max_bad_messages. Late
  /// answers to calls that timed out are never counted.
  bool count_unknown_responses = true;
  /// Log lines about the peer's bad messages (malformed frames, answers to unknown ids, CALLs over
  /// the rate limit), per connection. on_bad_message, on_rate_limit_exceeded, the CALLERROR answers
  /// and the metrics still see every one.
  LogLimit bad_message_log{};
  StrictModeOptions strict_mode;  ///< schema validation of payloads
  /// Token buckets for the peer's CALLs and SENDs (answers to our own calls are not counted): a
  /// global one and per-action ones. A CALL over the limit is dropped unanswered (ignore), or the
  /// connection is closed with 1008 (disconnect), or only on_rate_limit_exceeded hears of it
  /// (callback); the event fires in every case. Default: no limit.
  RateLimitOptions rate_limit;
  ParseOptions parse;  ///< how lenient the frame parser is
  MessageIdGenerator id_generator;  ///< default: random_message_id()
  std::shared_ptr<Logger> logger;   ///< default: default_logger()
  /// Logs every OCPP message at info: direction IN/OUT, type, action, message id, latency_ms for
  /// results (payloads are not logged).
  bool exchange_log = false;
  Clock clock;                      ///< for rate limits and sessions; default steady_clock::now
};

/// Per-call settings of call() and safe_call().
struct CallOptions {
  std::optional<milliseconds> timeout;  ///< default: SessionOptions::call_timeout
  std::string message_id;               ///< default: generated (an idempotency key keeps it fixed)
};

/// How close() closes.
struct CloseOptions {
  std::uint16_t code = 1000;  ///< the WebSocket close code
  std::string reason{};  ///< the close reason
  /// Let in-flight and queued outbound CALLs and running inbound handlers finish first, for at
  /// most SessionOptions::drain_timeout. Otherwise they are rejected / cancelled at once.
  bool await_pending = true;
  /// Drop the TCP connection without a closing handshake (the peer sees 1006).
  bool force = false;
};

/// The state of a peer's connection (RpcSession::state()).
enum class ConnectionState { connecting, open, closing, closed };

}  // namespace ocpp
OCPP_API_END
