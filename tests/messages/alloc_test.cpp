// The validators (generated and compact) must not allocate on the success path.
#include <atomic>
#include <cstdlib>
#include <new>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include "ocpp/schema/compact.hpp"
#include "samples.hpp"

namespace {
std::atomic<long> g_allocations{0};
}

void* operator new(std::size_t n) {
  ++g_allocations;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

TEST(ValidatorAllocations, NoneOnSuccess) {
  for (auto span : {ocpp_test::samples_v16(), ocpp_test::samples_v201(), ocpp_test::samples_v21()}) {
    for (const auto& s : span) {
      boost::json::value v = boost::json::parse(s.json);
      ocpp::schema::ValidationError error;
      long before = g_allocations.load();
      bool ok = s.validate(v, {}, &error);
      long after = g_allocations.load();
      EXPECT_TRUE(ok) << s.type;
      EXPECT_EQ(after - before, 0) << s.type << " " << s.variant;
    }
  }
}

TEST(ValidatorAllocations, CompactValidatorsAllocateNothingOnSuccess) {
  const ocpp::ProtocolVersion versions[] = {ocpp::ProtocolVersion::v16, ocpp::ProtocolVersion::v201,
                                            ocpp::ProtocolVersion::v21};
  const std::span<const ocpp_test::Sample> spans[] = {ocpp_test::samples_v16(), ocpp_test::samples_v201(),
                                                      ocpp_test::samples_v21()};
  for (int i = 0; i < 3; ++i) {
    for (const auto& s : spans[i]) {
      const ocpp::ActionInfo* action = ocpp::schema::compact::find_action(versions[i], s.action);
      ASSERT_NE(action, nullptr) << s.action;
      const ocpp::schema::ValidateFn fn =
          s.type.ends_with("Response") ? action->validate_response : action->validate_request;
      boost::json::value v = boost::json::parse(s.json);
      ocpp::schema::ValidationError error;
      long before = g_allocations.load();
      bool ok = fn(v, {}, &error);
      long after = g_allocations.load();
      EXPECT_TRUE(ok) << s.type;
      EXPECT_EQ(after - before, 0) << s.type << " " << s.variant;
    }
  }
}

}  // namespace
