#pragma once
// Every public header declares its API between OCPP_API_BEGIN and OCPP_API_END. The shared library
// (BUILD_SHARED_LIBS=ON) is compiled with -fvisibility=hidden, so only those declarations reach
// libocpp-ws-io.so's dynamic symbol table; src/'s internals and the template instances of Boost and
// the standard library stay inside it. In the static libraries the markers change nothing.
#if defined(__GNUC__)
#define OCPP_API_BEGIN _Pragma("GCC visibility push(default)")
#define OCPP_API_END _Pragma("GCC visibility pop")
#else
#define OCPP_API_BEGIN
#define OCPP_API_END
#endif
