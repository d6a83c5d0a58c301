#include "ws_transport.hpp"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

#include <atomic>
#include <vector>

namespace ocpp::detail {
namespace beast = boost::beast;
namespace websocket = beast::websocket;

namespace {

class WsTransport final : public Transport, public std::enable_shared_from_this<WsTransport> {
 public:
  WsTransport(WsStream ws, std::size_t max_frame, std::chrono::milliseconds close_timeout)
      : ws_(std::move(ws)), close_timeout_(close_timeout) {
    ws_.read_message_max(max_frame);
    ws_.auto_fragment(false);
    ws_.next_layer().teardown_timeout = close_timeout;
  }

  void start(std::weak_ptr<TransportSink> sink) override {
    sink_ = std::move(sink);
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (kind != websocket::frame_type::pong) return;
      if (auto s = sink_.lock()) s->on_pong();
    });
    boost::asio::dispatch(ws_.get_executor(), [self = shared_from_this()] { self->do_read(); });
  }

  void send(std::string frame) override {
    if (closing_ || finished_) return;
    count_queued(static_cast<std::int64_t>(frame.size()));
    queue_.push_back(std::move(frame));
    if (!writing_) do_write();
  }

  std::size_t queued_bytes() const noexcept override { return queued_; }

  void count_queued_bytes_in(std::shared_ptr<std::atomic<std::int64_t>> total) override {
    if (total) total->fetch_add(static_cast<std::int64_t>(queued_), std::memory_order_relaxed);
    total_ = std::move(total);
  }

  void ping() override {
    if (closing_ || finished_ || pinging_) return;
    pinging_ = true;
    ws_.async_ping({}, [self = shared_from_this()](beast::error_code) { self->pinging_ = false; });
  }

  void close(std::uint16_t code, std::string_view reason) override {
    if (closing_ || finished_) return;
    closing_ = true;
    close_code_ = is_sendable_close_code(code) ? code : close_code::normal;
    close_reason_ = std::string(reason.substr(0, 120));  // a close frame's payload is at most 125 bytes
    if (!writing_) return do_close();
    // After the queued frames are written; but a peer that stopped reading never takes them, and
    // must not keep the connection for that.
    arm_close_timer();
  }

  void terminate() override {
    if (finished_) return;
    terminated_ = true;
    beast::error_code ec;
    ws_.next_layer().socket().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
    ws_.next_layer().socket().close(ec);
  }

 private:
  void do_read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec) return finish(ec);
    if (auto s = sink_.lock()) {
      const auto data = buffer_.cdata();
      s->on_frame(std::string_view(static_cast<const char*>(data.data()), data.size()));
    }
    buffer_.consume(buffer_.size());
    // A large message should not pin its buffer for the life of an idle connection.
    if (buffer_.capacity() > 8192) buffer_.shrink_to_fit();
    if (!finished_) do_read();
  }

  void do_write() {
    if (head_ == queue_.size()) {
      queue_.clear();
      head_ = 0;
      writing_ = false;
      if (closing_ && !close_sent_) do_close();
      return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(boost::asio::buffer(queue_[head_]), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      // After finish() the queue is gone, even when this write got through.
      if (ec || self->finished_) {
        self->writing_ = false;
        return;  // the read side reports the failure
      }
      auto& written = self->queue_[self->head_++];
      self->count_queued(-static_cast<std::int64_t>(written.size()));
      written.clear();
      self->do_write();
    });
  }

  void do_close() {
    close_sent_ = true;
    websocket::close_reason why;
    why.code = close_code_;
    why.reason = close_reason_;
    ws_.async_close(why, [self = shared_from_this()](beast::error_code) {});
    // A peer that never answers the close frame must not keep the connection.
    arm_close_timer();
  }

  // Replaces a timer armed before: the one armed while queued frames went out.
  void arm_close_timer() {
    close_timer_ = std::make_unique<boost::asio::steady_timer>(ws_.get_executor(), close_timeout_);
    close_timer_->async_wait([weak = weak_from_this()](beast::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->finished_) return;
      beast::error_code ignored;
      self->ws_.next_layer().socket().close(ignored);  // the pending read ends; finish() reports our code
    });
  }

  // Single writer (this executor): queued_ needs no atomic; total_ is shared with other threads.
  void count_queued(std::int64_t delta) noexcept {
    queued_ = static_cast<std::size_t>(static_cast<std::int64_t>(queued_) + delta);
    if (total_) total_->fetch_add(delta, std::memory_order_relaxed);
  }

  void finish(beast::error_code ec) {
    if (finished_) return;
    finished_ = true;
    std::uint16_t code = close_code::abnormal;
    std::string reason;
    if (close_sent_ && !terminated_) {
      code = close_code_;  // we asked: report our code (the peer echoes it)
      reason = close_reason_;
    } else if (ec == websocket::error::closed) {
      code = ws_.reason().code;
      reason = std::string(ws_.reason().reason.data(), ws_.reason().reason.size());
      if (code == 0) code = 1005;  // close frame without a status
    } else if (ec == websocket::error::message_too_big) {
      code = close_code::too_big;
      reason = "Message too big";
    } else if (closing_ && !terminated_) {
      code = close_code_;  // dropped while our close waited behind frames the peer did not read
      reason = close_reason_;
    }
    if (!close_sent_ && !terminated_ && ec != websocket::error::closed) {
      beast::error_code ignored;
      ws_.next_layer().socket().close(ignored);
    }
    queue_.clear();
    count_queued(-static_cast<std::int64_t>(queued_));
    if (close_timer_) close_timer_->cancel();
    auto sink = sink_.lock();
    sink_.reset();
    ws_.control_callback();
    if (sink) sink->on_closed(code, reason);
  }

  WsStream ws_;
  std::chrono::milliseconds close_timeout_;
  std::unique_ptr<boost::asio::steady_timer> close_timer_;  // only while closing
  beast::flat_buffer buffer_;
  std::weak_ptr<TransportSink> sink_;
  std::vector<std::string> queue_;
  std::size_t head_ = 0;
  std::size_t queued_ = 0;  // bytes in queue_ not written yet
  std::shared_ptr<std::atomic<std::int64_t>> total_;
  std::string close_reason_;
  std::uint16_t close_code_ = close_code::normal;
  bool writing_ = false;
  bool pinging_ = false;
  bool closing_ = false;
  bool close_sent_ = false;
  bool terminated_ = false;
  bool finished_ = false;
};

}  // namespace

std::shared_ptr<Transport> make_ws_transport(WsStream ws, std::size_t max_frame_bytes,
                                             std::chrono::milliseconds close_timeout) {
  return std::make_shared<WsTransport>(std::move(ws), max_frame_bytes, close_timeout);
}

}  // namespace ocpp::detail
