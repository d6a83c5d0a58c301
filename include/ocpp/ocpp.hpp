#pragma once
/// @file
/// Everything a user needs: client, server, sessions, frames and errors, the cluster's adapters.
#include "ocpp/client/client.hpp"
#include "ocpp/cluster/memory_adapter.hpp"
#include "ocpp/cluster/redis_adapter.hpp"
#include "ocpp/rpc/error.hpp"
#include "ocpp/rpc/frame.hpp"
#include "ocpp/server/server.hpp"
#include "ocpp/session/session.hpp"
#include "ocpp/transport/io_pool.hpp"
#include "ocpp/version.hpp"
