// Message middleware: the per-direction lanes that keep messages in order while a middleware
// decides, possibly later and elsewhere.
#include <limits>

#include "state.hpp"

namespace ocpp {

namespace {
// Past every middleware: a veto skips the rest.
constexpr std::size_t kChainEnd = std::numeric_limits<std::size_t>::max();
}  // namespace

MessageContext::MessageContext(std::shared_ptr<detail::MessageStage> stage, std::size_t step)
    : stage_(std::move(stage)), step_(step) {}

MessageContext::~MessageContext() { next(); }

MessagePhase MessageContext::phase() const noexcept { return stage_->phase; }
Frame& MessageContext::frame() noexcept { return stage_->frame; }
const std::string& MessageContext::action() const noexcept { return stage_->action; }
const std::string& MessageContext::identity() const noexcept { return stage_->identity; }

void MessageContext::next() {
  if (decide())
    if (auto host = stage_->host.lock()) host->post_advance(stage_, step_ + 1);
}

void MessageContext::reject(RpcError error) {
  if (!decide()) return;
  stage_->rejected = std::move(error);
  if (auto host = stage_->host.lock()) host->post_advance(stage_, kChainEnd);
}

void RpcEngine::State::through_middleware(MessagePhase phase, Frame frame, std::string action,
                                          std::function<void(detail::MessageStage&)> done) {
  const bool outbound = phase == MessagePhase::outgoing_call || phase == MessagePhase::outgoing_result ||
                        phase == MessagePhase::outgoing_error;
  // The frame is moved in by construction: assigning it would copy the payload when its storage is
  // not the default one (the small reader's, OCPP_SMALL_JSON).
  auto stage = std::make_shared<detail::MessageStage>(detail::MessageStage{.host = host.weak_host(),
                                                                           .phase = phase,
                                                                           .outbound = outbound,
                                                                           .frame = std::move(frame),
                                                                           .action = std::move(action),
                                                                           .identity = identity,
                                                                           .rejected = std::nullopt,
                                                                           .epoch = lane_epoch,
                                                                           .done = std::move(done)});
  auto& lane = stage->outbound ? out_lane : in_lane;
  lane.waiting.push_back(std::move(stage));
  start_lane(lane);
}

void RpcEngine::State::start_lane(Lane& lane) {
  if (lane.current || lane.waiting.empty()) return;
  lane.current = std::move(lane.waiting.front());
  lane.waiting.pop_front();
  advance(lane.current, 0);
}

void RpcEngine::State::advance(const std::shared_ptr<detail::MessageStage>& stage, std::size_t step) {
  auto& lane = stage->outbound ? out_lane : in_lane;
  if (lane.current != stage || stage->epoch != lane_epoch) return;  // decided already, or the lanes were cleared
  if (step < middleware.size() && !stage->rejected) {
    CallbackGate::Scope scope(hooks.gate.get());
    if (!scope) return;  // the owner is gone: the message goes no further, the connection is closing
    auto ctx = std::make_shared<MessageContext>(stage, step);
    std::string what;
    try {
      middleware[step](std::move(ctx));
      return;
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
      what = "a non-exception";  // would otherwise unwind into io_context::run
    }
    stage->rejected = RpcError(ErrorCode::InternalError, "message middleware threw: " + what);
    log(LogLevel::error, stage->rejected->description());
    finish_stage(lane);
    return;
  }
  finish_stage(lane);
}

void RpcEngine::State::finish_stage(Lane& lane) {
  auto stage = std::move(lane.current);
  lane.current = nullptr;
  stage->done(*stage);
  start_lane(lane);
}

void RpcEngine::State::clear_lanes() {
  ++lane_epoch;
  in_lane = {};
  out_lane = {};
}

}  // namespace ocpp
