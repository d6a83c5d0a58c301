#pragma once
// Certificates the tests make themselves (ocpp::tls), so nothing depends on files checked in or on
// the day they were made: a CA, a foreign CA with the same kind of names (only the issuer tells
// their certificates apart), and whatever a test issues, as <stem>.pem / <stem>.key in a
// directory of its own that goes with the object.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

#include "ocpp/tls/certs.hpp"

namespace ocpp_test {

class CertDir {
 public:
  static constexpr const char* kCaName = "Test CSO Root";
  static constexpr const char* kForeignCaName = "Someone Else";

  explicit CertDir(const std::string& prefix)
      : dir_(std::filesystem::temp_directory_path() / (prefix + "-" + std::to_string(::getpid()))),
        ca_(ocpp::tls::make_ca(kCaName)),
        foreign_ca_(ocpp::tls::make_ca(kForeignCaName)) {
    std::filesystem::create_directories(dir_);
    save("ca", ca_);
    save("foreign-ca", foreign_ca_);
  }
  ~CertDir() {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  CertDir(const CertDir&) = delete;
  CertDir& operator=(const CertDir&) = delete;

  const std::filesystem::path& dir() const noexcept { return dir_; }
  std::string cert(const std::string& stem) const { return (dir_ / (stem + ".pem")).string(); }
  std::string key(const std::string& stem) const { return (dir_ / (stem + ".key")).string(); }

  // Signed by the CA, or by the foreign one.
  void issue(const std::string& stem, const ocpp::tls::CertSpec& spec, bool foreign = false) {
    save(stem, ocpp::tls::issue(foreign ? foreign_ca_ : ca_, spec));
  }

  // A server certificate for localhost and 127.0.0.1.
  static ocpp::tls::CertSpec server(ocpp::tls::KeyType key) {
    return {.common_name = "localhost", .dns_names = {"localhost"}, .ip_addresses = {"127.0.0.1"}, .key = key,
            .server = true};
  }
  static ocpp::tls::CertSpec client(std::string common_name) {
    return {.common_name = std::move(common_name), .client = true};
  }

 private:
  void save(const std::string& stem, const ocpp::tls::Pem& pem) {
    write(cert(stem), pem.cert);
    write(key(stem), pem.key);
    // Throwaway keys, but some TLS stacks refuse group- or world-readable key files.
    std::filesystem::permissions(key(stem), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                                 std::filesystem::perm_options::replace);
  }
  static void write(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + path);
  }

  std::filesystem::path dir_;
  ocpp::tls::Pem ca_, foreign_ca_;
};

}  // namespace ocpp_test
