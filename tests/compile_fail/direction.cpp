// Each CASE must fail to compile with the static_assert named in CMakeLists.txt; CASE 0 must
// compile, proving the failures come from the direction check and not from the set-up.
#include <boost/asio/io_context.hpp>

#include <ocpp/client/client.hpp>
#include <ocpp/messages/v16.hpp>
#include <ocpp/messages/v201.hpp>
#include <ocpp/server/server.hpp>

void use(ocpp::Client& cs, ocpp::ServerClient& csms, ocpp::Server& server) {
  auto ignore = [](std::exception_ptr, auto) {};
#if CASE == 0
  cs.call(ocpp::v201::BootNotificationRequest{}, ignore);
  csms.call(ocpp::v201::ResetRequest{}, ignore);
  cs.handle([](const ocpp::v201::ResetRequest&, auto&) { return ocpp::v201::ResetResponse{}; });
  server.handle([](const ocpp::v16::HeartbeatRequest&, auto&) { return ocpp::v16::HeartbeatResponse{}; });
#elif CASE == 1  // a charging station sending a CSMS → CS action
  cs.call(ocpp::v201::ResetRequest{}, ignore);
#elif CASE == 2  // a CSMS sending a CS → CSMS action
  csms.call(ocpp::v16::BootNotificationRequest{}, ignore);
#elif CASE == 3  // a charging station handling an action only it sends
  cs.handle([](const ocpp::v201::BootNotificationRequest&, auto&) { return ocpp::v201::BootNotificationResponse{}; });
#elif CASE == 4  // a CSMS-wide handler for an action only the CSMS sends
  server.handle([](const ocpp::v16::ResetRequest&, auto&) { return ocpp::v16::ResetResponse{}; });
#elif CASE == 5  // a typed handler returning another action's response
  cs.handle([](const ocpp::v201::ResetRequest&, auto&) { return ocpp::v201::HeartbeatResponse{}; });
#endif
  (void)cs;
  (void)csms;
  (void)server;
  (void)ignore;
}
