#include "ocpp/transport/loopback.hpp"

#include <boost/asio/post.hpp>

namespace ocpp {

namespace {

class LoopbackEnd : public Transport, public std::enable_shared_from_this<LoopbackEnd> {
 public:
  LoopbackEnd(boost::asio::any_io_executor ex, bool is_a,
              std::shared_ptr<std::function<void(bool, std::string_view)>> observe)
      : ex_(std::move(ex)), is_a_(is_a), observe_(std::move(observe)) {}

  std::weak_ptr<LoopbackEnd> peer;

  void start(std::weak_ptr<TransportSink> sink) override { sink_ = std::move(sink); }

  void send(std::string frame) override {
    if (closed_) return;
    if (*observe_) (*observe_)(is_a_, frame);
    if (auto p = peer.lock()) {
      boost::asio::post(ex_, [p, f = std::move(frame)] {
        if (auto s = p->sink_.lock(); s && !p->closed_) s->on_frame(f);
      });
    }
  }

  void ping() override {
    if (closed_) return;
    if (auto p = peer.lock()) boost::asio::post(ex_, [self = shared_from_this()] {
        if (auto s = self->sink_.lock(); s && !self->closed_) s->on_pong();
      });
  }

  void close(std::uint16_t code, std::string_view reason) override {
    if (closed_) return;
    if (!is_sendable_close_code(code)) code = close_code::normal;
    finish_both(code, std::string(reason));
  }

  void terminate() override {
    if (closed_) return;
    finish_both(close_code::abnormal, {});
  }

 private:
  void finish_both(std::uint16_t code, std::string reason) {
    auto p = peer.lock();
    finish(code, reason);
    if (p) p->finish(code, reason);
  }
  void finish(std::uint16_t code, std::string reason) {
    if (closed_) return;
    closed_ = true;
    boost::asio::post(ex_, [self = shared_from_this(), code, reason = std::move(reason)] {
      auto s = self->sink_.lock();
      self->sink_.reset();
      if (s) s->on_closed(code, reason);
    });
  }

  boost::asio::any_io_executor ex_;
  bool is_a_;
  std::shared_ptr<std::function<void(bool, std::string_view)>> observe_;
  std::weak_ptr<TransportSink> sink_;
  bool closed_ = false;
};

}  // namespace

LoopbackPair make_loopback_pair(boost::asio::any_io_executor ex,
                                std::function<void(bool, std::string_view)> observe) {
  auto obs = std::make_shared<std::function<void(bool, std::string_view)>>(std::move(observe));
  auto a = std::make_shared<LoopbackEnd>(ex, true, obs);
  auto b = std::make_shared<LoopbackEnd>(ex, false, obs);
  a->peer = b;
  b->peer = a;
  return {a, b};
}

}  // namespace ocpp
