// Message middleware: the per-direction lanes that keep messages in order while a middleware
// decides, possibly later and elsewhere.
#include <boost/asio/post.hpp>

#include "middleware_stage.hpp"
#include "ocpp/session/session.hpp"

namespace ocpp {

MessageContext::MessageContext(std::shared_ptr<detail::MessageStage> stage, std::size_t step)
    : stage_(std::move(stage)), step_(step) {}

MessageContext::~MessageContext() { next(); }

MessagePhase MessageContext::phase() const noexcept { return stage_->phase; }
Frame& MessageContext::frame() noexcept { return stage_->frame; }
const std::string& MessageContext::action() const noexcept { return stage_->action; }
const std::string& MessageContext::identity() const noexcept { return stage_->identity; }

void MessageContext::next() {
  if (decide())
    if (auto s = stage_->session.lock()) s->post_advance(stage_, step_ + 1);
}

void MessageContext::reject(RpcError error) {
  if (!decide()) return;
  stage_->rejected = std::move(error);
  if (auto s = stage_->session.lock()) s->post_advance(stage_, s->middleware_.size());
}

void RpcSession::use(MessageMiddleware middleware) { middleware_.push_back(std::move(middleware)); }

void RpcSession::through_middleware(MessagePhase phase, Frame frame, std::string action,
                                    std::function<void(RpcSession&, detail::MessageStage&)> done) {
  auto stage = std::make_shared<detail::MessageStage>();
  stage->session = weak_from_this();
  stage->phase = phase;
  stage->outbound = phase == MessagePhase::outgoing_call || phase == MessagePhase::outgoing_result ||
                    phase == MessagePhase::outgoing_error;
  stage->frame = std::move(frame);
  stage->action = std::move(action);
  stage->identity = identity_;
  stage->epoch = lane_epoch_;
  stage->done = std::move(done);
  auto& lane = stage->outbound ? out_lane_ : in_lane_;
  lane.waiting.push_back(std::move(stage));
  start_lane(lane);
}

void RpcSession::start_lane(Lane& lane) {
  if (lane.current || lane.waiting.empty()) return;
  lane.current = std::move(lane.waiting.front());
  lane.waiting.pop_front();
  advance(lane.current, 0);
}

// Decisions never act inline: a middleware's own stack unwinds first, and decisions from other
// threads land on the session's executor.
void RpcSession::post_advance(std::shared_ptr<detail::MessageStage> stage, std::size_t step) {
  boost::asio::post(executor_, [self = shared_from_this(), stage = std::move(stage), step] { self->advance(stage, step); });
}

void RpcSession::advance(const std::shared_ptr<detail::MessageStage>& stage, std::size_t step) {
  auto& lane = stage->outbound ? out_lane_ : in_lane_;
  if (lane.current != stage || stage->epoch != lane_epoch_) return;  // decided already, or the lanes were cleared
  if (step < middleware_.size() && !stage->rejected) {
    auto ctx = std::make_shared<MessageContext>(stage, step);
    try {
      middleware_[step](std::move(ctx));
    } catch (const std::exception& e) {
      stage->rejected = RpcError(ErrorCode::InternalError, std::string("message middleware threw: ") + e.what());
      log(LogLevel::error, stage->rejected->description());
      finish_stage(lane);
    }
    return;
  }
  finish_stage(lane);
}

void RpcSession::finish_stage(Lane& lane) {
  auto stage = std::move(lane.current);
  lane.current = nullptr;
  stage->done(*this, *stage);
  start_lane(lane);
}

void RpcSession::clear_lanes() {
  ++lane_epoch_;
  in_lane_ = {};
  out_lane_ = {};
}

}  // namespace ocpp
