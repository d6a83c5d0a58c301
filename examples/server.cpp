#include <ocpp/ocpp.hpp>
#include <ocpp/messages/v16.hpp>
#include <ocpp/messages/v201.hpp>

#include <iostream>

using namespace ocpp;

int main() {
  IoPool pool(1);  // one io_context per thread; N threads when asked
  ServerOptions options;
  options.protocols = {"ocpp2.0.1", "ocpp1.6"};  // preference order
  options.strict_mode.enabled = true;
  Server server(pool.executors(), options);

  // The request type names the action and the protocol, so version-aware handlers are plain
  // overloads. They are shared by every connection.
  server.handle([](const v16::BootNotificationRequest& request, auto&) -> v16::BootNotificationResponse {
    std::cout << "Boot from: " << request.chargePointVendor << "\n";
    return {.status = v16::BootNotificationStatus::Accepted, .currentTime = iso_timestamp(), .interval = 300};
  });
  server.handle([](const v201::BootNotificationRequest& request, auto&) -> v201::BootNotificationResponse {
    std::cout << "Boot from: " << request.chargingStation.vendorName << "\n";
    return {.currentTime = iso_timestamp(), .interval = 300, .status = v201::RegistrationStatusEnumType::Accepted};
  });

  server.on_client([](const std::shared_ptr<ServerClient>& client) {
    std::cout << client->identity() << " connected with " << client->protocol() << "\n";
    // Per-connection handlers and events go here; they take precedence over the server's.
    client->on_validation_failure([](const ValidationFailureEvent& e) {
      std::cout << e.action << " failed its schema at " << e.error.path << " (" << e.error.keyword << ")\n";
    });
  });

  server.listen(3000);
  pool.start();

  // Later, from any thread. A CSMS call: a ServerClient may not send BootNotification (that
  // does not compile), only the CSMS-to-station actions.
  if (auto cp = server.get_client("CP001"))
    cp->call(v16::GetConfigurationRequest{.key = std::vector<std::string>{"HeartbeatInterval"}},
             [](std::exception_ptr error, v16::GetConfigurationResponse response) {
               if (!error && response.configurationKey) std::cout << response.configurationKey->size() << " keys\n";
             });
  pool.join();
}
