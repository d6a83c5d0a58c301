// The native half of web.same_answers_native_and_browser: a charging station on ocpp::Client with
// the fixed script that tests/web/js_station.mjs mirrors on web/ocpp.js. Reset and ReserveNow are
// answered {"status":"Accepted"}; every other action is unhandled (the engine answers NotImplemented).
//
//   native_station URL IDENTITY PROTOCOL [--strict] [--max-bad-messages N] [--reset-status S]
//
// --reset-status answers Reset with another status: same_answers.mjs --self-check uses it to
// prove that the comparison sees a station that answers differently.
// Prints "station: open PROTOCOL" once connected and "station: closed CODE REASON" when the
// connection ends (no reconnect), then exits 0; exit 1 when the connection cannot be opened,
// 2 on bad arguments.
#include <ocpp/ocpp.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>
#include <string_view>

namespace {

int usage() {
  std::cerr << "usage: native_station URL IDENTITY PROTOCOL [--strict] [--max-bad-messages N] [--reset-status S]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) return usage();
  ocpp::ClientOptions options;
  options.endpoint = argv[1];
  options.identity = argv[2];
  options.protocols = {argv[3]};
  options.reconnect = false;
  std::string reset_status = "Accepted";
  for (int i = 4; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--strict") {
      options.strict_mode.enabled = true;
    } else if (arg == "--max-bad-messages" && i + 1 < argc) {
      options.max_bad_messages = std::stoul(argv[++i]);
    } else if (arg == "--reset-status" && i + 1 < argc) {
      reset_status = argv[++i];
    } else {
      return usage();
    }
  }

  boost::asio::io_context io;
  std::shared_ptr<ocpp::Client> client;
  try {
    client = ocpp::Client::create(io.get_executor(), options);
  } catch (const std::exception& e) {
    std::cerr << "native_station: " << e.what() << "\n";
    return 2;
  }
  client->handle("Reset", [reset_status](ocpp::CallContext&) -> ocpp::HandlerResult {
    return boost::json::object{{"status", reset_status}};
  });
  client->handle("ReserveNow", [](ocpp::CallContext&) -> ocpp::HandlerResult {
    return boost::json::object{{"status", "Accepted"}};
  });
  int status = 0;
  client->on_close([](const ocpp::CloseResult& r) {
    std::cout << "station: closed " << r.code << " " << r.reason << std::endl;
  });
  client->connect([&](std::exception_ptr error) {
    if (error) {
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        std::cerr << "native_station: connect failed: " << e.what() << "\n";
      }
      status = 1;
      return;
    }
    std::cout << "station: open " << options.protocols.front() << std::endl;
  });
  io.run();
  return status;
}
