// The validators must not allocate on the success path.
#include <atomic>
#include <cstdlib>
#include <new>

#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

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

}  // namespace
