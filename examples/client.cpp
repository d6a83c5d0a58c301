#include <ocpp/ocpp.hpp>
#include <ocpp/messages/v16.hpp>

#include <boost/asio.hpp>
#include <iostream>

namespace asio = boost::asio;
using namespace ocpp;

asio::awaitable<void> station(std::shared_ptr<Client> client) {
  co_await client->connect(asio::use_awaitable);
  v16::BootNotificationRequest boot;
  boot.chargePointVendor = "VendorX";
  boot.chargePointModel = "ModelY";
  v16::BootNotificationResponse response = co_await client->call(boot, asio::use_awaitable);
  std::cout << "Status: " << v16::to_string(response.status) << "\n";
}

int main() {
  asio::io_context io;
  ClientOptions options;
  options.endpoint = "ws://localhost:3000";
  options.identity = "CP001";
  options.protocols = {"ocpp1.6"};
  options.strict_mode.enabled = true;  // every payload checked against the OCA schemas
  auto client = Client::create(io.get_executor(), options);

  client->handle([](const v16::ResetRequest& request, auto& ctx) -> v16::ResetResponse {
    std::cout << ctx.identity << ": " << v16::to_string(request.type) << " reset\n";
    return {.status = v16::ResetStatus::Accepted};
  });

  asio::co_spawn(io, station(client), asio::detached);
  io.run();
}
