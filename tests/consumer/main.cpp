// Boots one charge point at argv[1] (ws://host:port) and prints the library's version and the
// CSMS's answer; exits 0 only if the boot was accepted.
#include <ocpp/messages/v16.hpp>
#include <ocpp/ocpp.hpp>

#include <boost/asio.hpp>
#include <iostream>

namespace asio = boost::asio;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: consumer ws://host:port identity\n";
    return 2;
  }
  asio::io_context io;
  ocpp::ClientOptions options;
  options.endpoint = argv[1];
  options.identity = argv[2];
  options.protocols = {"ocpp1.6"};
  auto client = ocpp::Client::create(io.get_executor(), options);

  bool accepted = false;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await client->connect(asio::use_awaitable);
        ocpp::v16::BootNotificationRequest boot;
        boot.chargePointVendor = "consumer";
        boot.chargePointModel = "test";
        auto response = co_await client->call(boot, asio::use_awaitable);
        std::cout << "ocpp-ws-io " << ocpp::version() << ": BootNotification "
                  << ocpp::v16::to_string(response.status) << "\n";
        accepted = response.status == ocpp::v16::BootNotificationStatus::Accepted;
        client->close();
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run();
  return accepted ? 0 : 1;
}
