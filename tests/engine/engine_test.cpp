#include <gtest/gtest.h>

#include "ocpp/engine/engine.hpp"

TEST(Engine, Placeholder) { SUCCEED(); }
