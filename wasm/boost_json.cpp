// Boost.JSON compiled from its header-only sources: Debian ships no WebAssembly build of it.
#include <boost/json/src.hpp>
