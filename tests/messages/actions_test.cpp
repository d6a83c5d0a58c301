// Action tables, directions and compile-time action_traits of every version.
#include <algorithm>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include <ocpp/messages/v16.hpp>
#include <ocpp/messages/v201.hpp>
#include <ocpp/messages/v21.hpp>

#include "samples.hpp"

namespace {

using ocpp::ActionInfo;
using ocpp::Direction;
using ocpp::MessagePattern;

// ---- compile-time binding -------------------------------------------------------------------

static_assert(ocpp::OcppCallRequest<ocpp::v16::BootNotificationRequest>);
static_assert(ocpp::OcppResponse<ocpp::v16::BootNotificationResponse>);
static_assert(!ocpp::OcppRequest<ocpp::v16::BootNotificationResponse>);
static_assert(!ocpp::OcppRequest<int>);
static_assert(std::is_same_v<ocpp::v16::action_traits<ocpp::v16::BootNotificationRequest>::response_type,
                             ocpp::v16::BootNotificationResponse>);
static_assert(ocpp::action_traits<ocpp::v16::BootNotificationRequest>::name == "BootNotification");
static_assert(ocpp::action_traits<ocpp::v16::BootNotificationRequest>::protocol == "ocpp1.6");
static_assert(ocpp::action_traits<ocpp::v16::BootNotificationRequest>::direction == Direction::ToCsms);
static_assert(ocpp::action_traits<ocpp::v16::RemoteStartTransactionRequest>::direction == Direction::ToChargingStation);
static_assert(ocpp::action_traits<ocpp::v16::DataTransferRequest>::direction == Direction::Both);
static_assert(ocpp::action_traits<ocpp::v201::TransactionEventRequest>::protocol == "ocpp2.0.1");
static_assert(ocpp::action_traits<ocpp::v201::TransactionEventRequest>::direction == Direction::ToCsms);
static_assert(ocpp::action_traits<ocpp::v21::SetDERControlRequest>::protocol == "ocpp2.1");
static_assert(ocpp::action_traits<ocpp::v21::SetDERControlRequest>::direction == Direction::ToChargingStation);
static_assert(std::is_same_v<ocpp::response_traits<ocpp::v21::SetDERControlResponse>::request_type,
                             ocpp::v21::SetDERControlRequest>);
static_assert(ocpp::OcppSendMessage<ocpp::v21::NotifyPeriodicEventStreamRequest>);
static_assert(ocpp::action_traits<ocpp::v21::NotifyPeriodicEventStreamRequest>::pattern == MessagePattern::Send);
static_assert(ocpp::action_traits<ocpp::v21::NotifyPeriodicEventStreamRequest>::validate_response == nullptr);

// What a typed RPC layer does with the traits.
template <ocpp::OcppCallRequest Req>
std::string_view action_of(const Req&) {
  return ocpp::action_traits<Req>::name;
}

TEST(Actions, TraitsUsableGenerically) {
  EXPECT_EQ(action_of(ocpp::v201::HeartbeatRequest{}), "Heartbeat");
  EXPECT_EQ(ocpp::action_traits<ocpp::v16::HeartbeatRequest>::validate_request,
            ocpp::v16::find_action("Heartbeat")->validate_request);
}

// ---- tables -----------------------------------------------------------------------------------

using FindFn = const ActionInfo* (*)(std::string_view) noexcept;

void check_table(std::span<const ActionInfo> table, FindFn find, std::size_t calls, std::size_t sends,
                 std::span<const ocpp_test::Sample> samples) {
  std::size_t n_call = 0, n_send = 0;
  std::set<std::string_view> sample_types;
  for (const auto& s : samples) sample_types.insert(s.type);
  for (std::size_t i = 0; i < table.size(); ++i) {
    const ActionInfo& a = table[i];
    SCOPED_TRACE(std::string(a.name));
    if (i > 0) {
      EXPECT_LT(table[i - 1].name, a.name) << "table must be sorted";
    }
    EXPECT_EQ(find(a.name), &a);
    ASSERT_NE(a.validate_request, nullptr);
    EXPECT_TRUE(a.direction == Direction::ToCsms || a.direction == Direction::ToChargingStation ||
                a.direction == Direction::Both);
    EXPECT_TRUE(sample_types.count(std::string(a.name) + "Request")) << "no request type/sample";
    if (a.pattern == MessagePattern::Call) {
      ++n_call;
      ASSERT_NE(a.validate_response, nullptr);
      EXPECT_TRUE(sample_types.count(std::string(a.name) + "Response")) << "no response type/sample";
    } else {
      ++n_send;
      EXPECT_EQ(a.validate_response, nullptr);
    }
  }
  EXPECT_EQ(n_call, calls);
  EXPECT_EQ(n_send, sends);
}

TEST(Actions, V16) {
  check_table(ocpp::v16::actions(), &ocpp::v16::find_action, 39, 0, ocpp_test::samples_v16());
  for (auto name : {"Authorize", "BootNotification", "DiagnosticsStatusNotification", "FirmwareStatusNotification",
                    "Heartbeat", "MeterValues", "StartTransaction", "StatusNotification", "StopTransaction",
                    "LogStatusNotification", "SecurityEventNotification", "SignCertificate",
                    "SignedFirmwareStatusNotification"}) {
    ASSERT_NE(ocpp::v16::find_action(name), nullptr) << name;
    EXPECT_EQ(ocpp::v16::find_action(name)->direction, Direction::ToCsms) << name;
  }
  std::size_t to_cs = 0;
  for (const auto& a : ocpp::v16::actions()) to_cs += a.direction == Direction::ToChargingStation;
  EXPECT_EQ(to_cs, 39u - 13u - 1u);
  EXPECT_EQ(ocpp::v16::find_action("DataTransfer")->direction, Direction::Both);
  EXPECT_EQ(ocpp::v16::find_action("TransactionEvent"), nullptr);
  EXPECT_EQ(ocpp::v16::find_action(""), nullptr);
  EXPECT_EQ(ocpp::v16::find_action("authorize"), nullptr);
}

TEST(Actions, V201) {
  check_table(ocpp::v201::actions(), &ocpp::v201::find_action, 64, 0, ocpp_test::samples_v201());
  EXPECT_EQ(ocpp::v201::find_action("TransactionEvent")->direction, Direction::ToCsms);
  EXPECT_EQ(ocpp::v201::find_action("RequestStartTransaction")->direction, Direction::ToChargingStation);
  EXPECT_EQ(ocpp::v201::find_action("StartTransaction"), nullptr);
}

TEST(Actions, V21) {
  check_table(ocpp::v21::actions(), &ocpp::v21::find_action, 90, 1, ocpp_test::samples_v21());
  const ActionInfo* s = ocpp::v21::find_action("NotifyPeriodicEventStream");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->pattern, MessagePattern::Send);
  EXPECT_EQ(s->direction, Direction::ToCsms);
  EXPECT_EQ(ocpp::v21::find_action("OpenPeriodicEventStream")->direction, Direction::ToCsms);
  EXPECT_EQ(ocpp::v21::find_action("AFRRSignal")->direction, Direction::ToChargingStation);
  EXPECT_EQ(ocpp::to_string(Direction::ToChargingStation), "ToChargingStation");
}

}  // namespace
