#pragma once
// Internal: an engine Failure raised as the library's typed exception, as completion tokens expect.
#include <exception>

#include "ocpp/engine/engine.hpp"

namespace ocpp {

std::exception_ptr to_exception(const Failure& failure);

}  // namespace ocpp
