#pragma once
// The client of one simulated station from `ocpp simulate`'s connection flags.
#include <boost/asio/any_io_executor.hpp>

#include <memory>
#include <string>

#include "commands.hpp"
#include "ocpp/client/client.hpp"

namespace ocpp::app {

// Throws UsageError for flags that do not fit each other or a certificate file that is missing.
std::shared_ptr<Client> make_station(boost::asio::any_io_executor executor, const SimulateArgs& args,
                                     const std::string& identity, const std::string& protocol,
                                     std::chrono::milliseconds call_timeout);

}  // namespace ocpp::app
