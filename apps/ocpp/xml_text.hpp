#pragma once
// Text for the JUnit reports of `ocpp check` and `ocpp simulate --scenario`.
#include <string>
#include <string_view>

namespace ocpp::app {

// Escaped for an XML attribute or element: markup characters as entities, line breaks and tabs as
// character references (an attribute keeps them), other control characters as '?' (XML 1.0 has no
// way to write them; a server's reason text may hold them).
std::string xml_escape(std::string_view text);

}  // namespace ocpp::app
