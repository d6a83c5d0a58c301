// `ocpp certs`: the certificates security profiles 2 and 3 need in the demo and the tests.
#include <iostream>

#include "commands.hpp"
#include "ocpp/tls/certs.hpp"

namespace ocpp::app {

int certs(const CertsArgs& args) {
  for (const auto& path : tls::write_demo_set(args.out, args.identities, args.hosts)) std::cout << path.string() << "\n";
  return 0;
}

}  // namespace ocpp::app
